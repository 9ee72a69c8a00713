// The login page of a token-protected dashboard: POSTs the token as JSON, with the CSRF token.
const form = document.getElementById('login-form') as HTMLFormElement;
const base = document.body.dataset.base ?? '';
const csrf = document.body.dataset.csrf ?? '';

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = (document.getElementById('token') as HTMLInputElement).value;
  void fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
    body: JSON.stringify({ token }),
  }).then((response) => {
    if (response.ok) location.assign(`${base}/`);
    else
      (document.getElementById('login-error') as HTMLElement).textContent =
        response.status === 401 ? 'wrong token' : `sign-in failed (${response.status})`;
  });
});
export {};
