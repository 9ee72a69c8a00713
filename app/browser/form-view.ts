/** DOM updates of the subscribe form. Text goes in with textContent only: server text is never parsed as HTML. */

export type FieldName = 'email' | 'username';
export const FIELD_NAMES: readonly FieldName[] = ['email', 'username'];

export class FormView {
  private readonly button: HTMLButtonElement;
  private readonly messages: HTMLElement;
  private readonly progress: HTMLElement;
  private readonly bar: HTMLElement;
  private buttonLabel = '';

  constructor(readonly form: HTMLFormElement) {
    this.button = required(form.querySelector<HTMLButtonElement>('button[type="submit"]'), 'submit button');
    this.messages = required(form.querySelector<HTMLElement>('#messages'), '#messages');
    this.progress = required(form.querySelector<HTMLElement>('#progress'), '#progress');
    this.bar = required(form.querySelector<HTMLElement>('#progress-bar'), '#progress-bar');
  }

  /** Disables the button while the task runs, as the Celery tutorials' pages do. */
  busy(): void {
    this.buttonLabel = this.button.textContent ?? 'Submit';
    this.button.disabled = true;
    this.button.textContent = 'Processing...';
    this.clearMessage();
    this.clearFieldErrors();
    this.progress.classList.add('d-none');
  }

  idle(): void {
    this.button.disabled = false;
    this.button.textContent = this.buttonLabel;
  }

  showMessage(text: string, kind: 'success' | 'danger'): void {
    const alert = document.createElement('div');
    alert.className = `alert alert-${kind} mb-0`;
    alert.id = 'task-message';
    alert.textContent = text;
    this.messages.replaceChildren(alert);
  }

  clearMessage(): void {
    this.messages.replaceChildren();
  }

  showFieldErrors(fields: Partial<Record<FieldName, string>>): void {
    for (const name of FIELD_NAMES) {
      const message = fields[name];
      if (message === undefined) continue;
      this.input(name).classList.add('is-invalid');
      this.feedback(name).textContent = message;
    }
  }

  clearFieldErrors(): void {
    for (const name of FIELD_NAMES) {
      this.input(name).classList.remove('is-invalid');
      this.feedback(name).textContent = '';
    }
  }

  /** percent: 0..100, or undefined when the task gives no total (the bar then just shows the label). */
  showProgress(percent: number | undefined, label: string, tone: 'running' | 'success' | 'danger' = 'running'): void {
    const value = Math.max(0, Math.min(100, percent ?? 100));
    this.progress.classList.remove('d-none');
    this.progress.setAttribute('aria-valuenow', String(Math.round(value)));
    // CSSOM writes are allowed by the CSP; style attributes in markup are not.
    this.bar.style.width = `${Math.max(value, 8)}%`;
    this.bar.textContent = label;
    this.bar.classList.toggle('progress-bar-striped', tone === 'running');
    this.bar.classList.toggle('progress-bar-animated', tone === 'running');
    this.bar.classList.toggle('bg-success', tone === 'success');
    this.bar.classList.toggle('bg-danger', tone === 'danger');
  }

  values(): Record<FieldName, string> {
    return { email: this.input('email').value, username: this.input('username').value };
  }

  private input(name: FieldName): HTMLInputElement {
    return required(this.form.querySelector<HTMLInputElement>(`#${name}`), `#${name}`);
  }

  private feedback(name: FieldName): HTMLElement {
    return required(this.form.querySelector<HTMLElement>(`#${name}-feedback`), `#${name}-feedback`);
  }
}

function required<T>(element: T | null, what: string): T {
  if (element === null) throw new Error(`the page has no ${what}`);
  return element;
}
