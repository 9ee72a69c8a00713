import { html, type SafeHtml } from './html.js';

export interface LayoutOptions {
  title: string;
  body: SafeHtml;
  /** Pages with a form load the bundled page script. */
  withScript?: boolean;
  /** Another same-origin page script, e.g. '/static/live.js' for the chat and the chart. */
  script?: string;
}

/** The page shell: local Bootstrap, no inline script or style (the CSP forbids both). */
export function layout({ title, body, withScript = false, script }: LayoutOptions): string {
  return html`<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title} · errand demo</title>
  <link rel="stylesheet" href="/static/bootstrap/css/bootstrap.min.css">
</head>
<body>
<nav class="navbar bg-body-tertiary mb-4">
  <div class="container"><a class="navbar-brand" href="/">errand demo</a></div>
</nav>
<main class="container">
${body}
</main>
${withScript ? html`<script type="module" src="/static/errand-client.js"></script>` : ''}
${script ? html`<script type="module" src="${script}"></script>` : ''}
</body>
</html>
`.value;
}
