import type { FormVariant } from '../variants.js';
import { html } from './html.js';
import { layout } from './layout.js';

/**
 * The subscribe form. The page script (app/browser) finds its settings in
 * data- attributes, since the CSP allows no inline script.
 */
export function formPage(variant: FormVariant): string {
  const body = html`<div class="row">
  <div class="col-12 col-md-8 col-lg-6">
    <h1 class="h3">Subscribe to the newsletter</h1>
    <p class="text-body-secondary mb-1">${variant.title}</p>
    <p class="small text-body-secondary">${variant.summary}</p>
    <form id="subscribe-form" novalidate
          data-flavour="${variant.flavour}" data-transport="${variant.transport}"
          data-action="${variant.path}" data-base-url="${variant.baseUrl}">
      <div class="mb-3">
        <label for="email" class="form-label">Email address</label>
        <input type="email" class="form-control" id="email" name="email" maxlength="254"
               autocomplete="email" required aria-describedby="email-feedback">
        <div class="invalid-feedback" id="email-feedback"></div>
      </div>
      <div class="mb-3">
        <label for="username" class="form-label">Username</label>
        <input type="text" class="form-control" id="username" name="username" maxlength="100"
               autocomplete="username" required aria-describedby="username-feedback">
        <div class="invalid-feedback" id="username-feedback"></div>
      </div>
      <div class="progress mb-3 d-none" id="progress" role="progressbar" aria-label="Task progress"
           aria-valuemin="0" aria-valuemax="100" aria-valuenow="0">
        <div class="progress-bar" id="progress-bar"></div>
      </div>
      <div class="mb-3" id="messages" role="status" aria-live="polite"></div>
      <button type="submit" class="btn btn-primary">Submit</button>
    </form>
    <p class="small text-body-secondary mt-4">
      Tip: an email containing <code>fail</code> always makes the simulated provider fail.
    </p>
  </div>
</div>`;
  return layout({ title: variant.title, body, withScript: true });
}
