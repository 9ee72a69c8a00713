import { describe, expect, it } from 'vitest';
import { errorText, progressOf } from '../../app/browser/task-status-text.js';
import { DEV_WEBHOOK_SECRET, DemoConfigError, loadConfig } from '../../app/config.js';
import { providerFails } from '../../app/fake-api.js';
import { escapeHtml, html } from '../../app/pages/html.js';
import { formPage } from '../../app/pages/form-page.js';
import { validateSubscription } from '../../app/validation.js';
import { FORM_VARIANTS } from '../../app/variants.js';

describe('html templates', () => {
  it('escapes every interpolated value but not nested templates', () => {
    const evil = `<img src=x onerror="alert('x')">&`;
    expect(html`<p title="${evil}">${evil}</p>`.value).toBe(
      '<p title="&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;">&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;</p>',
    );
    expect(html`<ul>${[html`<li>${'<b>'}</li>`, html`<li>2</li>`]}</ul>`.value).toBe('<ul><li>&lt;b&gt;</li><li>2</li></ul>');
    expect(escapeHtml('plain')).toBe('plain');
  });

  it('renders each variant with its transport and endpoints in data attributes', () => {
    for (const variant of FORM_VARIANTS) {
      const page = formPage(variant);
      expect(page).toContain(`data-transport="${variant.transport}"`);
      expect(page).toContain(`data-action="${variant.path}"`);
      expect(page).toContain('<script type="module" src="/static/errand-client.js"></script>');
    }
  });
});

describe('validation', () => {
  it('accepts a good submission, trimmed', () => {
    expect(validateSubscription({ email: ' ada@example.com ', username: ' ada ' })).toEqual({
      ok: true,
      value: { email: 'ada@example.com', username: 'ada' },
    });
  });

  it('names each bad field once', () => {
    const outcome = validateSubscription({ email: ['a@b.co', 'c@d.co'], username: 'u'.repeat(101) });
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(Object.keys(outcome.fields).sort()).toEqual(['email', 'username']);
    expect(validateSubscription(null)).toMatchObject({
      ok: false,
      fields: { email: expect.any(String), username: expect.any(String) },
    });
    expect(validateSubscription({ email: 'a@b.co', username: 'u'.repeat(100) }).ok).toBe(true);
  });
});

describe('fake provider', () => {
  it('fails an email containing "fail" always, others by chance', () => {
    expect(providerFails('Please-FAIL@example.com', 0)).toBe(true);
    expect(providerFails('ada@example.com', 0)).toBe(false);
    expect(providerFails('ada@example.com', 1)).toBe(true);
    expect(providerFails('ada@example.com', 0.5, () => 0.4)).toBe(true);
    expect(providerFails('ada@example.com', 0.5, () => 0.6)).toBe(false);
  });
});

describe('config', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      port: 8010,
      broker: 'sqlite://./.errand/errand.db',
      demoApiDelayMs: 5000,
      demoApiFailureRate: 0.5,
      demoApiUrl: 'http://127.0.0.1:8010/fake-api/subscribe',
      channelLayer: 'memory',
      chartIntervalMs: 2000,
      progressItemMs: 25,
      beatEveryMs: 10_000,
      callbackReceiverUrl: 'http://127.0.0.1:8010/callback_receiver/',
      webhookSecret: DEV_WEBHOOK_SECRET,
      webhookSecretIsDefault: true,
    });
  });

  it('reads the environment and derives a reachable provider URL', () => {
    const config = loadConfig({
      HOST: '0.0.0.0',
      PORT: '9000',
      ERRAND_BROKER: 'redis://127.0.0.1:6379/0',
      DEMO_API_FAILURE_RATE: '0',
    });
    expect(config).toMatchObject({ port: 9000, broker: 'redis://127.0.0.1:6379/0', demoApiFailureRate: 0 });
    expect(config.demoApiUrl).toBe('http://127.0.0.1:9000/fake-api/subscribe');
    expect(config.callbackReceiverUrl).toBe('http://127.0.0.1:9000/callback_receiver/');
  });

  it('rejects bad values, naming them', () => {
    expect(() => loadConfig({ PORT: 'http', DEMO_API_FAILURE_RATE: '2' })).toThrow(DemoConfigError);
    expect(() => loadConfig({ DEMO_API_FAILURE_RATE: '2' })).toThrow(/DEMO_API_FAILURE_RATE/);
    expect(() => loadConfig({ WEBHOOK_SECRET: 'hunter2' })).toThrow(/WEBHOOK_SECRET/);
  });

  it('takes the webhook secret from WEBHOOK_SECRET, else the dev default, said to be one', () => {
    const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
    expect(loadConfig({ WEBHOOK_SECRET: secret })).toMatchObject({ webhookSecret: secret, webhookSecretIsDefault: false });
  });
});

describe('page status text', () => {
  it('shows errors given as text or as {type, message}', () => {
    expect(errorText('ProviderError: boom')).toBe('ProviderError: boom');
    expect(errorText({ type: 'ProviderError', message: 'boom' })).toBe('ProviderError: boom');
    expect(errorText(undefined)).toBe('The task failed.');
  });

  it('turns progress into a percentage and a label', () => {
    expect(progressOf({ state: 'PROGRESS', progress: { current: 1, total: 4, meta: 'calling provider' } })).toEqual({
      percent: 25,
      label: 'calling provider',
    });
    expect(progressOf({ state: 'PENDING' })).toEqual({ percent: 0, label: 'waiting for a worker' });
  });
});
