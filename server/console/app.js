// The console's shell: messages in two languages, the session, calls to
// the API, the page router, and the small helpers every page draws with.
// Pages live in pages.js; charts are Apache ECharts (vendor/).

import { PAGES } from './pages.js';

const LANGS = ['zh', 'en'];
const ctx = {
  session: null,
  lang: LANGS.includes(localStorage.getItem('ordergraph.lang'))
    ? localStorage.getItem('ordergraph.lang')
    : 'zh',
  messages: {},
  charts: [],
};

/** The message `key` in the current language, `{name}`s filled from `vars`. */
export function t(key, vars = {}) {
  const text = ctx.messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

/** An error the API answered, with its message as the API wrote it. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** Calls the API as the session: JSON in, JSON (or the raw response) out. */
export async function api(path, { method = 'GET', body, accept, raw = false } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (accept) headers.Accept = accept;
  if (method !== 'GET' && ctx.session?.csrf) headers['X-CSRF-Token'] = ctx.session.csrf;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (response.status === 401 && path !== '/console/login') {
    ctx.session = null;
    renderLogin();
    throw new ApiError(401, { message: t('login.expired') });
  }
  if (!response.ok) {
    let detail = null;
    try {
      detail = await response.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, detail);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

/** Runs one query; the rows as objects. */
export function sql(text, params = []) {
  return api('/v1/sql', { method: 'POST', body: { sql: text, params } });
}

/** An element: `el('td', {class: 'n'}, 'text', child, ...)`. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** An instant as the API writes it (RFC 3339 in UTC). */
const UTC_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
let timeFormat = null;

/**
 * An RFC 3339 UTC instant as `YYYY-MM-DD HH:MM:SS` in the business time
 * zone (`[report] timezone`), where the shop's days and months are cut.
 */
export function localTime(iso) {
  const zone = ctx.session?.timezone;
  if (!zone) return iso;
  if (timeFormat?.zone !== zone) {
    // Swedish writes dates and times as ISO 8601 does.
    const options = { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
    timeFormat = { zone, format: new Intl.DateTimeFormat('sv-SE', options) };
  }
  return timeFormat.format.format(new Date(iso));
}

/** A value as a cell shows it: instants in business time. */
export function show(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' && UTC_TIME.test(value)) return localTime(value);
  if (typeof value === 'number' && !Number.isInteger(value)) return value.toFixed(2);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * A table of `rows` (objects); `columns` picks and orders them, `mark(row)`
 * names a class for a row (`bad` draws it red).
 */
export function table(rows, { columns, mark, cell } = {}) {
  if (!rows.length) return el('p', { class: 'empty' }, t('table.empty'));
  const names = columns ?? Object.keys(rows[0]);
  return el(
    'div',
    { class: 'scroll' },
    el(
      'table',
      {},
      el('thead', {}, el('tr', {}, names.map((n) => el('th', {}, t(`col.${n}`) === `col.${n}` ? n : t(`col.${n}`))))),
      el(
        'tbody',
        {},
        rows.map((row) =>
          el(
            'tr',
            { class: mark?.(row) },
            names.map((n) => el('td', { class: typeof row[n] === 'number' ? 'n' : undefined }, cell?.(n, row) ?? show(row[n]))),
          ),
        ),
      ),
    ),
  );
}

/** A chart in a new box; redrawn when the window resizes. */
export function chart(option, { height = 320 } = {}) {
  const box = el('div', { class: 'chart', style: `height:${height}px` });
  requestAnimationFrame(() => {
    const c = window.echarts.init(box);
    c.setOption(option);
    ctx.charts.push(c);
  });
  return box;
}

/** A titled section. */
export function section(title, ...children) {
  return el('section', {}, el('h2', {}, title), ...children);
}

/** Something that loads: a placeholder until `load()` gives its nodes. */
export function loading(load) {
  const box = el('div', { class: 'loading' }, t('loading'));
  load()
    .then((nodes) => box.replaceWith(...[nodes].flat()))
    .catch((e) => box.replaceWith(errorBox(e)));
  return box;
}

/** An error where it happened. */
export function errorBox(e) {
  return el('div', { class: 'error', role: 'alert' }, e.message ?? String(e));
}

/** Saves `text` as a file named `name`. */
export function download(name, blob) {
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export { ctx };

async function loadMessages() {
  const response = await fetch(`/console/messages.${ctx.lang}.json`);
  ctx.messages = await response.json();
  document.documentElement.lang = ctx.lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('title');
}

function renderLogin(problem) {
  const bar = document.getElementById('bar');
  bar.replaceChildren(el('strong', {}, 'ordergraph'), langSwitch());
  const message = el('p', { class: 'error', role: 'alert', hidden: !problem }, problem ?? '');
  const form = el(
    'form',
    { id: 'login', class: 'login' },
    el('h1', {}, t('login.title')),
    el('label', {}, t('login.user'), el('input', { name: 'user', autocomplete: 'username', required: true })),
    el('label', {}, t('login.password'), el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    el('button', { type: 'submit' }, t('login.submit')),
    message,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      ctx.session = await api('/console/login', {
        method: 'POST',
        body: { user: data.get('user'), password: data.get('password') },
      });
      renderShell();
    } catch (e) {
      message.hidden = false;
      message.textContent = e.status === 401 ? t('login.wrong') : e.message;
    }
  });
  document.getElementById('warning').hidden = true;
  document.getElementById('page').replaceChildren(form);
}

function langSwitch() {
  const other = ctx.lang === 'zh' ? 'en' : 'zh';
  return el(
    'button',
    {
      class: 'lang',
      type: 'button',
      onclick: async () => {
        ctx.lang = other;
        localStorage.setItem('ordergraph.lang', other);
        await loadMessages();
        if (ctx.session) renderShell();
        else renderLogin();
      },
    },
    t('lang.switch'),
  );
}

function renderShell() {
  const s = ctx.session;
  const nav = el(
    'nav',
    {},
    s.pages.map((p) => el('a', { href: `#/${p}`, 'data-page': p }, t(`page.${p}`))),
  );
  const logout = s.open
    ? null
    : el(
        'button',
        {
          type: 'button',
          id: 'logout',
          onclick: async () => {
            await api('/console/logout', { method: 'POST' });
            ctx.session = null;
            renderLogin();
          },
        },
        t('logout'),
      );
  document
    .getElementById('bar')
    .replaceChildren(
      el('strong', {}, 'ordergraph'),
      nav,
      el('span', { class: 'who', title: t('time.zone', { zone: s.timezone }) }, `${s.user} · ${t(`role.${s.role}`)} · ${s.timezone}`),
      langSwitch(),
      logout,
    );
  const warning = document.getElementById('warning');
  warning.hidden = !s.open;
  warning.textContent = s.open ? t('open.warning') : '';
  route();
}

async function route() {
  if (!ctx.session) return;
  for (const c of ctx.charts) c.dispose();
  ctx.charts = [];
  const [name, ...rest] = location.hash.replace(/^#\//, '').split('/');
  const pages = ctx.session.pages;
  if (!pages.length) {
    document.getElementById('page').replaceChildren(el('p', {}, t('no.pages')));
    return;
  }
  const page = pages.includes(name) ? name : pages[0];
  for (const a of document.querySelectorAll('nav a')) {
    a.classList.toggle('here', a.dataset.page === page);
  }
  const main = document.getElementById('page');
  main.replaceChildren(el('h1', {}, t(`page.${page}`)));
  try {
    main.append(...[await PAGES[page](rest.map(decodeURIComponent))].flat());
  } catch (e) {
    main.append(errorBox(e));
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('resize', () => ctx.charts.forEach((c) => c.resize()));

async function boot() {
  await loadMessages();
  const response = await fetch('/console/session', { credentials: 'same-origin' });
  if (response.ok) {
    ctx.session = await response.json();
    renderShell();
  } else {
    renderLogin();
  }
}

boot();
