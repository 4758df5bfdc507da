// procctl ui: the page. Plain modules, no framework, no build step; every element is made with
// textContent (never innerHTML), so nothing stored in a run can become markup or script.
const main = document.getElementById('main');
const RUNS_POLL_MS = 1000;
const RUN_POLL_MS = 500;
let timer;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  return node;
}

async function api(path) {
  const response = await fetch(path, { credentials: 'same-origin' });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body.error) message = `${body.error.code}: ${body.error.message}`;
    } catch {
      // not JSON: keep the status line
    }
    throw new Error(message);
  }
  return response;
}

const enc = encodeURIComponent;
const runHref = (id) => `#/run/${enc(id)}`;
const outputName = (detail, path) => (path.startsWith(`${detail.prefix}outputs/`) ? path.slice(detail.prefix.length + 'outputs/'.length) : path);
const outputUrl = (detail, path) => `/api/runs/${enc(detail.summary.execution_id)}/outputs/${outputName(detail, path).split('/').map(enc).join('/')}`;
const statusCell = (status) => el('span', { class: `status ${status}` }, status);
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

function route() {
  clearTimeout(timer);
  const hash = location.hash || '#/';
  const [path, query = ''] = hash.slice(1).split('?');
  if (path.startsWith('/run/')) return showRun(decodeURIComponent(path.slice('/run/'.length)));
  if (path === '/deployments') return showDeployments();
  return showRuns(new URLSearchParams(query));
}

// ---- the runs table ---------------------------------------------------------------------------

const FILTERS = [
  { name: 'ref', label: 'Processor', placeholder: 'ns/name@N' },
  { name: 'status', label: 'Status', choices: ['', 'running', 'success', 'error'] },
  { name: 'mode', label: 'Mode', choices: ['', 'mock', 'real'] },
  { name: 'error_code', label: 'Error code', placeholder: 'ERR_…' },
  { name: 'since', label: 'Since', placeholder: '2h, 7d or a date' },
  { name: 'until', label: 'Until', placeholder: '30m or a date' },
];

function showRuns(params) {
  const form = el('form', { class: 'filters', role: 'search', 'aria-label': 'Filter runs' });
  for (const filter of FILTERS) {
    const value = params.get(filter.name) ?? '';
    const input = filter.choices
      ? el('select', { name: filter.name }, filter.choices.map((c) => el('option', { value: c, selected: c === value }, c || 'any')))
      : el('input', { name: filter.name, value, placeholder: filter.placeholder, autocomplete: 'off' });
    form.append(el('label', {}, filter.label, input));
  }
  const apply = () => {
    const next = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (value) next.set(name, String(value));
    history.replaceState(null, '', `#/?${next}`);
    refresh();
  };
  form.addEventListener('input', apply);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply();
  });
  const note = el('p', { class: 'muted', 'aria-live': 'polite' });
  const body = el('tbody');
  const table = el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Execution'), el('th', {}, 'Status'), el('th', {}, 'Processor'), el('th', { class: 'wide' }, 'Mode'), el('th', {}, 'Started'), el('th', { class: 'wide' }, 'Error'))), body);
  main.replaceChildren(el('h1', {}, 'Runs'), form, note, el('div', { class: 'table-wrap' }, table));

  async function refresh() {
    clearTimeout(timer);
    const query = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (value) query.set(name, String(value));
    try {
      const rows = await (await api(`/api/runs?${query}`)).json();
      body.replaceChildren(
        ...rows.map((r) =>
          el('tr', { 'data-id': r.execution_id }, el('td', { class: 'id' }, el('a', { href: runHref(r.execution_id) }, r.execution_id)), el('td', {}, statusCell(r.status)), el('td', {}, r.ref), el('td', { class: 'wide' }, r.mode), el('td', {}, el('time', { datetime: r.started_at }, when(r.started_at))), el('td', { class: 'wide mono' }, r.error_code ?? '')),
        ),
      );
      note.textContent = rows.length === 0 ? 'No runs match.' : `${rows.length} run(s), newest first; updates live.`;
    } catch (err) {
      note.textContent = `Cannot list runs: ${err.message}`;
    }
    if (location.hash === '' || location.hash.startsWith('#/?') || location.hash === '#/') timer = setTimeout(refresh, RUNS_POLL_MS);
  }
  refresh();
}

// ---- one run ------------------------------------------------------------------------------------

function eventsView(events) {
  const box = el('div', { class: 'events' });
  let tokens = null;
  for (const event of events) {
    if (event.kind === 'token') {
      if (!tokens) {
        tokens = el('pre', { class: 'tokens', 'data-kind': 'tokens' });
        box.append(tokens);
      }
      tokens.append(event.text);
      continue;
    }
    tokens = null;
    const at = el('span', { class: 'muted mono' }, `${(event.t_ms / 1000).toFixed(3)}s `);
    if (event.kind === 'log') box.append(el('div', { class: 'mono' }, at, `[${event.level}] ${event.message}`));
    else if (event.kind === 'progress') box.append(el('div', { class: 'mono' }, at, el('progress', { max: 1, value: event.fraction }), ` ${Math.round(event.fraction * 100)}% ${event.message ?? ''}`));
    else box.append(el('div', { class: 'mono muted' }, at, `[${event.kind}] ${event.message ?? ''}`));
  }
  if (events.length === 0) box.append(el('p', { class: 'muted' }, 'No events stored.'));
  return box;
}

function outputView(detail, output) {
  const url = outputUrl(detail, output.path);
  const name = outputName(detail, output.path);
  const check = el('span', { class: 'muted' }, 'checking…');
  const body = el('div');
  const ok = () => check.replaceChildren(el('span', { class: 'verified' }, `✓ matches ${output.cid.slice(0, 19)}…`));
  const bad = (message) => check.replaceChildren(el('span', { class: 'unverified' }, `✗ ${message}`));
  if (/^image\/(png|jpeg|gif|webp)/.test(output.mime)) {
    body.append(el('img', { src: url, alt: `output ${name}`, onload: ok, onerror: () => bad('does not match its content id') }));
  } else if (/^(text\/|application\/json)/.test(output.mime)) {
    const pre = el('pre', { 'data-output': name });
    body.append(pre);
    api(url)
      .then((r) => r.text())
      .then((text) => {
        if (output.mime.startsWith('application/json')) {
          try {
            text = JSON.stringify(JSON.parse(text), null, 2);
          } catch {
            // not JSON after all: shown as it is
          }
        }
        pre.textContent = text;
        ok();
      }, (err) => bad(err.message));
  } else {
    check.replaceChildren(el('span', { class: 'muted' }, 'checked when downloaded'));
  }
  return el('section', { class: 'output', 'aria-label': `output ${name}` }, el('header', {}, el('strong', { class: 'mono' }, name), el('span', { class: 'muted' }, `${output.mime} · ${output.size_bytes} B`), el('a', { href: `${url}?download`, download: name.split('/').pop() }, 'Download'), check), body);
}

function inputsView(detail) {
  if (!detail.inputs) return el('p', { class: 'muted' }, 'Inputs not recorded (an older procctl wrote this run).');
  const refs = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if (typeof v.$artifact === 'string' && typeof v.cid === 'string') refs.push(v);
      else Object.values(v).forEach(walk);
    }
  };
  walk(detail.inputs);
  const list = refs.map((ref) => el('li', {}, el('a', { href: `/api/runs/${enc(detail.summary.execution_id)}/inputs/${enc(ref.cid)}` }, `${ref.mime} attachment, ${ref.size_bytes} B`), ' ', el('code', {}, ref.cid)));
  return el('div', {}, list.length ? el('ul', { 'aria-label': 'attachments' }, list) : null, el('pre', {}, JSON.stringify(detail.inputs, null, 2)));
}

function facts(pairs) {
  return el('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

async function showRun(id) {
  main.replaceChildren(el('p', {}, 'Loading…'));
  let detail;
  try {
    detail = await (await api(`/api/runs/${enc(id)}`)).json();
  } catch (err) {
    main.replaceChildren(el('h1', {}, id), el('p', { class: 'error-box' }, err.message), el('a', { href: '#/' }, 'Back to runs'));
    return;
  }
  const { summary, envelope, receipt } = detail;
  const eventsBox = el('div', { 'aria-live': 'polite' }, eventsView(detail.events));
  const status = el('span', { id: 'run-status' }, statusCell(summary.status));
  main.replaceChildren(
    ...[
    el('p', {}, el('a', { href: '#/' }, '← Runs')),
    el('h1', {}, `Execution ${summary.execution_id}`),
    facts([
      ['Status', status],
      ['Processor', summary.ref],
      ['Mode', summary.mode],
      ['Started', when(receipt?.started_at ?? summary.started_at)],
      ['Finished', when(receipt?.finished_at)],
      ['Duration', receipt ? `${receipt.duration_ms} ms` : detail.done ? '' : 'still running'],
      ['Placement', receipt?.adapter],
      ['Store prefix', el('code', {}, detail.prefix)],
      ['Inputs hash', envelope?.meta?.inputs_hash && el('code', {}, envelope.meta.inputs_hash)],
      ['Image', envelope?.meta?.image_digest && el('code', {}, envelope.meta.image_digest)],
    ]),
    detail.alive === false ? el('p', { class: 'error-box' }, 'No envelope and no heartbeat for a minute: the process running this execution is gone (killed or crashed).') : null,
    envelope?.status === 'error' ? el('p', { class: 'error-box' }, el('strong', {}, envelope.error.code), `: ${envelope.error.message}`) : null,
    el('h2', {}, 'Outputs'),
    detail.outputs.length ? el('div', {}, detail.outputs.map((o) => outputView(detail, o))) : el('p', { class: 'muted' }, detail.done ? 'No outputs.' : 'None yet.'),
    el('h2', {}, 'Events'),
    eventsBox,
    el('h2', {}, 'Inputs'),
    inputsView(detail),
    el('h2', {}, 'Envelope'),
    envelope ? el('pre', { 'data-record': 'envelope' }, JSON.stringify(envelope, null, 2)) : el('p', { class: 'muted' }, 'Not yet: the run is still going.'),
    el('h2', {}, 'Receipt'),
    receipt ? el('pre', { 'data-record': 'receipt' }, JSON.stringify(receipt, null, 2)) : el('p', { class: 'muted' }, 'Not yet.'),
    ].filter(Boolean),
  );
  if (detail.done) return;
  const poll = async () => {
    try {
      const { events, done } = await (await api(`/api/runs/${enc(id)}/events`)).json();
      eventsBox.replaceChildren(eventsView(events));
      if (done) return showRun(id);
    } catch {
      // a hiccup: try again on the next tick
    }
    if (location.hash === runHref(id)) timer = setTimeout(poll, RUN_POLL_MS);
  };
  timer = setTimeout(poll, RUN_POLL_MS);
}

// ---- deployments ------------------------------------------------------------------------------

async function showDeployments() {
  main.replaceChildren(el('h1', {}, 'Deployments'), el('p', {}, 'Loading…'));
  let reports;
  try {
    reports = await (await api('/api/deployments')).json();
  } catch (err) {
    main.replaceChildren(el('h1', {}, 'Deployments'), el('p', { class: 'error-box' }, err.message));
    return;
  }
  main.replaceChildren(
    el('h1', {}, 'Deployments'),
    ...reports.map((report) =>
      el(
        'section',
        { 'aria-label': `${report.placement} placement` },
        el('h2', {}, report.placement),
        report.error
          ? el('p', { class: 'error-box' }, `Cannot tell: ${report.error}`)
          : report.deployments.length === 0
            ? el('p', { class: 'muted' }, 'Nothing started.')
            : el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, el('tr', {}, ['Name', 'Processor', 'Mode', 'State', 'Health', 'Endpoint'].map((h) => el('th', {}, h)))), el('tbody', {}, report.deployments.map((d) => el('tr', {}, el('td', { class: 'mono' }, d.name), el('td', {}, d.ref), el('td', {}, d.mode), el('td', {}, `${d.state}${d.detail ? ` (${d.detail})` : ''}`), el('td', {}, el('span', { class: `status ${d.healthy ? 'success' : 'error'}` }, d.healthy ? 'healthy' : 'not healthy')), el('td', { class: 'mono' }, d.endpoint ?? '')))))),
      ),
    ),
  );
}

// "/" jumps to the first filter, as in many list views; Escape leaves it.
document.addEventListener('keydown', (event) => {
  if (event.key === '/' && !(event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement)) {
    const first = document.querySelector('form.filters input');
    if (first) {
      event.preventDefault();
      first.focus();
    }
  } else if (event.key === 'Escape' && event.target instanceof HTMLInputElement) event.target.blur();
});
window.addEventListener('hashchange', route);
route();
