/** Tiny DOM helpers: every text goes in through textContent, never as markup. */

type Child = Node | string | number | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node as T;
}

/** Replaces a table's rows: a header row, then one row per item. */
export function fillTable(table: HTMLElement, headers: string[], rows: Child[][], empty = 'none'): void {
  const head = el('tr', {}, ...headers.map((h) => el('th', {}, h)));
  const body =
    rows.length > 0
      ? rows.map((cells) => el('tr', {}, ...cells.map((c) => (c instanceof HTMLTableCellElement ? c : el('td', {}, c)))))
      : [el('tr', {}, el('td', { colspan: String(headers.length), class: 'muted' }, empty))];
  table.replaceChildren(head, ...body);
}

export function button(label: string, onClick: () => void, className = ''): HTMLButtonElement {
  const b = el('button', { type: 'button', class: className }, label);
  b.addEventListener('click', onClick);
  return b;
}

export function stateBadge(state: string): HTMLElement {
  return el('span', { class: `state state-${state}` }, state);
}

export function time(ms: number | undefined): string {
  return ms === undefined ? '' : new Date(ms).toLocaleTimeString();
}

/** "12 s", "3 min", "2 h" ago. */
export function age(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

export function bytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}
