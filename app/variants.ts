/** The four ways the demo page submits and follows a task, after the Celery tutorials (Django, Django Channels, FastAPI). */
export interface FormVariant {
  /** Page URL; the form POSTs back to it. */
  path: string;
  /** Names the screenshot and the test case. */
  slug: string;
  title: string;
  /** 'django': urlencoded + X-CSRFToken; 'fastapi': JSON body, Origin-checked. */
  flavour: 'django' | 'fastapi';
  transport: 'poll' | 'ws' | 'sse';
  /** Where errandWeb's endpoints live for this page. */
  baseUrl: '' | '/users';
  summary: string;
}

export const FORM_VARIANTS: readonly FormVariant[] = [
  {
    path: '/form/',
    slug: 'form',
    title: 'Django flavour, polling',
    flavour: 'django',
    transport: 'poll',
    baseUrl: '',
    summary: 'Posts the form with a CSRF token, then asks GET /task_status/ every second.',
  },
  {
    path: '/form_ws/',
    slug: 'form_ws',
    title: 'Django flavour, WebSocket',
    flavour: 'django',
    transport: 'ws',
    baseUrl: '',
    summary: 'Posts the form, then listens on WS /ws/task_status/{task_id}/ for pushed updates.',
  },
  {
    path: '/form_sse/',
    slug: 'form_sse',
    title: 'Django flavour, Server-Sent Events',
    flavour: 'django',
    transport: 'sse',
    baseUrl: '',
    summary: 'Posts the form, then follows GET /tasks/{task_id}/events as an event stream.',
  },
  {
    path: '/users/form/',
    slug: 'users_form',
    title: 'FastAPI flavour, polling',
    flavour: 'fastapi',
    transport: 'poll',
    baseUrl: '/users',
    summary: 'Posts JSON (same-origin only, no token), then asks GET /users/task_status/ every second.',
  },
];
