// The console's pages: each reads the views over the API and draws them.
// A page is a function of the path after its name, returning its nodes.

import { api, chart, ctx, download, el, errorBox, loading, localTime, section, show, sql, t, table } from './app.js';

/** The months of `rows` in order, and one value per month. */
function byMonth(rows, value) {
  const months = [...new Set(rows.map((r) => r.month))].sort();
  return { months, values: months.map((m) => value(rows.filter((r) => r.month === m))) };
}

const percent = (x) => (x === null || x === undefined ? '' : `${(100 * x).toFixed(1)}%`);

function driftTrend(rows) {
  const { months, values } = byMonth(rows, (r) => r[0]?.drift_rate ?? 0);
  return chart({
    tooltip: { trigger: 'axis', valueFormatter: percent },
    xAxis: { type: 'category', data: months },
    yAxis: { type: 'value', axisLabel: { formatter: (v) => `${(100 * v).toFixed(1)}%` } },
    series: [{ name: t('col.drift_rate'), type: 'line', data: values, areaStyle: {} }],
  });
}

async function overview() {
  const today = `SELECT o.channel, count(*) AS orders, sum(o.amount) AS amount
    FROM orders o CROSS JOIN report_config c
    WHERE o.ordered_at > c.now - INTERVAL '1 day' AND o.ordered_at <= c.now
    GROUP BY o.channel ORDER BY orders DESC, o.channel`;
  const [byChannel, drift, tiers, credentials, holds] = await Promise.all([
    sql(today),
    sql('SELECT month, orders, drifted, drift_rate FROM drift_rate_monthly ORDER BY month'),
    sql('SELECT tier, count(*) AS refunds, max(stuck_hours) AS longest_hours FROM refund_escalations GROUP BY tier ORDER BY tier'),
    sql("SELECT platform, shop, name, expires_at, remaining_hours, level FROM credential_health WHERE alert ORDER BY remaining_hours LIMIT 10"),
    sql("SELECT count(*) AS waiting FROM order_holds WHERE state = 'held'"),
  ]);
  // Alerts firing now, for the roles that may see them.
  const alerts = ctx.session.may_see_alerts ? await api('/v1/alerts') : null;
  const firing = alerts?.alerts.reduce((n, a) => n + (a.firing?.length ?? 0), 0) ?? 0;
  const latest = drift[drift.length - 1];
  const tile = (label, value, bad) => el('div', { class: bad ? 'tile bad' : 'tile' }, el('b', {}, value), el('span', {}, label));
  return [
    el(
      'div',
      { class: 'tiles' },
      tile(t('overview.orders_today'), byChannel.reduce((n, r) => n + r.orders, 0)),
      tile(t('overview.drift_now'), latest ? percent(latest.drift_rate) : '–', latest && latest.drift_rate > 0.01),
      tile(t('overview.refunds_stuck'), tiers.reduce((n, r) => n + r.refunds, 0), tiers.length > 0),
      tile(t('overview.credentials'), credentials.length, credentials.length > 0),
      tile(t('overview.holds'), holds[0]?.waiting ?? 0, (holds[0]?.waiting ?? 0) > 0),
      alerts ? tile(t('overview.alerts'), firing, firing > 0) : null,
    ),
    section(
      t('overview.by_channel'),
      chart({
        tooltip: {},
        xAxis: { type: 'category', data: byChannel.map((r) => r.channel) },
        yAxis: { type: 'value' },
        series: [{ name: t('col.orders'), type: 'bar', data: byChannel.map((r) => r.orders) }],
      }, { height: 240 }),
    ),
    section(t('status.trend'), driftTrend(drift.map((r) => ({ ...r })))),
    section(t('overview.tiers'), table(tiers)),
    section(t('overview.credentials'), table(credentials, { mark: (r) => (r.level === 'critical' ? 'bad' : undefined) })),
  ];
}

const SYSTEMS = ['platform', 'erp', 'wms', 'crm'];

/** The systems of a board row whose status differs from the most common one. */
function disagreeing(row) {
  const counts = new Map();
  for (const s of SYSTEMS) {
    const status = row[`${s}_status`];
    if (status !== null && status !== undefined) counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  const common = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  return SYSTEMS.filter((s) => counts.has(row[`${s}_status`]) && row[`${s}_status`] !== common);
}

async function status() {
  const form = el('form', { class: 'filters' });
  const channels = await sql('SELECT DISTINCT channel FROM status_consistency ORDER BY channel');
  const months = await sql('SELECT month FROM drift_rate_monthly ORDER BY month DESC');
  const pick = (name, options) =>
    el('label', {}, t(`filter.${name}`), el('select', { name }, el('option', { value: '' }, t('filter.all')), options.map((o) => el('option', { value: o }, o))));
  form.append(
    pick('channel', channels.map((r) => r.channel)),
    pick('system', SYSTEMS),
    pick('month', months.map((r) => r.month)),
    el('label', {}, el('input', { type: 'checkbox', name: 'drifted', checked: true }), t('filter.drifted')),
  );
  const board = el('div', {});
  const draw = async () => {
    const f = new FormData(form);
    const where = [];
    const params = [];
    if (f.get('channel')) {
      params.push(f.get('channel'));
      where.push(`channel = $${params.length}`);
    }
    if (f.get('month')) {
      params.push(f.get('month'));
      where.push(`to_char(business_time(first_event_at), '%Y-%m') = $${params.length}`);
    }
    if (f.get('system')) where.push(`${SYSTEMS.includes(f.get('system')) ? f.get('system') : 'platform'}_status IS NOT NULL`);
    if (f.get('drifted')) where.push('NOT consistent');
    const rows = await sql(
      `SELECT channel, order_id, first_event_at, platform_status, erp_status, wms_status, crm_status, consistent, max_skew_seconds, drift
       FROM status_consistency ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY consistent, max_skew_seconds DESC, channel, order_id LIMIT 200`,
      params,
    );
    board.replaceChildren(
      el('p', { class: 'hint' }, t('status.rule')),
      table(rows, {
        mark: (r) => (r.consistent ? undefined : 'bad'),
        cell: (name, row) => {
          const system = name.replace(/_status$/, '');
          if (name.endsWith('_status') && disagreeing(row).includes(system)) return el('mark', {}, show(row[name]));
          if (name === 'order_id' && ctx.session.may_force_sync && !row.consistent) {
            return el('span', {}, row.order_id, ' ', forceSyncButton(row));
          }
          return undefined;
        },
      }),
    );
  };
  form.addEventListener('change', () => draw().catch((e) => board.replaceChildren(errorBox(e))));
  await draw();
  const [drift, scenarios] = await Promise.all([
    sql('SELECT month, orders, drifted, drift_rate FROM drift_rate_monthly ORDER BY month'),
    sql('SELECT month, rank, scenario, orders, avg_repair_minutes, owner, unrepaired FROM drift_scenarios_monthly ORDER BY month DESC, rank'),
  ]);
  return [
    section(t('status.board'), form, board),
    section(
      t('status.trend'),
      driftTrend(drift),
      el(
        'p',
        { class: 'filters reports' },
        t('status.reports'),
        drift
          .slice(-6)
          .reverse()
          .map((r) => el('a', { class: 'button', href: `/v1/reports/drift/${r.month}.pdf`, download: `drift-${r.month}.pdf` }, r.month)),
      ),
    ),
    section(t('status.scenarios'), table(scenarios)),
  ];
}

/**
 * A force-sync of one order: a small form (the status to push, evidence of
 * shipping, why), sent to the API, which applies the shipped guard.
 */
function forceSyncButton(row) {
  const button = el('button', { type: 'button', class: 'small' }, t('force.button'));
  button.addEventListener('click', () => {
    const form = el(
      'form',
      { class: 'force' },
      el('input', { name: 'status', required: true, value: row.platform_status ?? '', placeholder: t('force.status'), size: 8 }),
      el('input', { name: 'tracking_no', placeholder: t('col.tracking_no'), size: 12 }),
      el('input', { name: 'reason', required: true, placeholder: t('force.reason'), size: 16 }),
      el('button', { type: 'submit' }, t('force.send')),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const f = new FormData(form);
      const body = { status: f.get('status'), reason: f.get('reason') };
      if (f.get('tracking_no')) body.tracking_no = f.get('tracking_no');
      const path = `/v1/orders/${encodeURIComponent(row.channel)}/${encodeURIComponent(row.order_id)}/force-sync`;
      try {
        const done = await api(path, { method: 'POST', body });
        form.replaceWith(el('span', { class: 'ok' }, t('force.done', { id: done.command_id ?? '' })));
      } catch (e) {
        form.querySelector('.error')?.remove();
        form.append(errorBox(e));
      }
    });
    button.replaceWith(form);
  });
  return button;
}

const HEAT_MEASURES = ['avg_dwell_hours', 'rejection_rate', 'manual_rate'];

async function refunds() {
  const [heat, escalations, nodes, cycle] = await Promise.all([
    sql('SELECT month, node, refunds, avg_dwell_hours, p90_dwell_hours, rejection_rate, manual_rate FROM refund_heatmap ORDER BY month, node'),
    sql('SELECT * FROM refund_escalations ORDER BY stuck_hours DESC LIMIT 100'),
    sql('SELECT * FROM refund_nodes ORDER BY position'),
    sql('SELECT * FROM refund_cycle_time ORDER BY month'),
  ]);
  const months = [...new Set(heat.map((r) => r.month))].sort();
  const names = nodes.map((n) => n.node).filter((n) => heat.some((r) => r.node === n));
  const box = el('div', {});
  const measure = el('select', { name: 'measure' }, HEAT_MEASURES.map((m) => el('option', { value: m }, t(`col.${m}`))));
  const draw = () => {
    const m = measure.value;
    const data = heat.map((r) => [months.indexOf(r.month), names.indexOf(r.node), r[m] ?? 0]).filter((d) => d[1] >= 0);
    const max = Math.max(1e-9, ...data.map((d) => d[2]));
    for (const c of ctx.charts.filter((c) => c.getDom().parentNode === box)) c.dispose();
    box.replaceChildren(
      chart({
        tooltip: { formatter: (p) => `${months[p.value[0]]} · ${names[p.value[1]]}<br>${t(`col.${m}`)}: ${m.endsWith('rate') ? percent(p.value[2]) : p.value[2].toFixed(1)}` },
        grid: { left: 160 },
        xAxis: { type: 'category', data: months },
        yAxis: { type: 'category', data: names, inverse: true },
        visualMap: { min: 0, max, calculable: true, orient: 'horizontal', left: 'center', bottom: 0, inRange: { color: ['#f7fbff', '#fdae61', '#d73027'] } },
        series: [{ type: 'heatmap', data, label: { show: true, formatter: (p) => (m.endsWith('rate') ? percent(p.value[2]) : p.value[2].toFixed(1)) } }],
      }, { height: 120 + 36 * names.length }),
    );
  };
  measure.addEventListener('change', draw);
  draw();
  return [
    section(t('refunds.heatmap'), el('label', { class: 'filters' }, t('refunds.measure'), measure), box),
    section(t('refunds.escalations'), table(escalations, { mark: (r) => (r.tier === '24h' ? 'bad' : undefined) })),
    section(t('refunds.template'), templateDiagram(nodes)),
    section(
      t('refunds.cycle'),
      cycle.length
        ? chart({
            tooltip: { trigger: 'axis' },
            legend: {},
            xAxis: { type: 'category', data: cycle.map((r) => r.month) },
            yAxis: { type: 'value', name: 'h' },
            series: Object.keys(cycle[0])
              .filter((k) => k !== 'month' && typeof cycle[0][k] === 'number' && k.includes('hours'))
              .map((k) => ({ name: t(`col.${k}`), type: 'line', data: cycle.map((r) => r[k]) })),
          })
        : table(cycle),
    ),
  ];
}

/** The refund lifecycle template: its nodes in order, with timeouts and roles. */
function templateDiagram(nodes) {
  const data = nodes.map((n, i) => ({
    name: n.node,
    x: i * 160,
    y: 0,
    itemStyle: { color: n.enabled === false ? '#bbb' : '#4575b4' },
    label: { show: true, formatter: `${n.node}\n${n.timeout_hours ?? ''}h · ${n.approver_role ?? ''}${n.condition ? `\n${n.condition}` : ''}` },
  }));
  const links = nodes.slice(1).map((n, i) => ({ source: nodes[i].node, target: n.node }));
  return chart({
    series: [
      {
        type: 'graph',
        layout: 'none',
        symbol: 'roundRect',
        symbolSize: [150, 64],
        data,
        links,
        edgeSymbol: ['none', 'arrow'],
        edgeSymbolSize: 10,
        lineStyle: { width: 2, color: '#888' },
        label: { color: '#fff', fontSize: 11, lineHeight: 15 },
      },
    ],
  }, { height: 180 });
}

async function stock() {
  const [forecast, requests, escalations] = await Promise.all([
    sql('SELECT * FROM stock_forecast ORDER BY days_of_cover NULLS LAST, sku, warehouse LIMIT 200'),
    sql('SELECT * FROM purchase_requests ORDER BY requested_at DESC LIMIT 100'),
    sql('SELECT * FROM purchase_escalations ORDER BY deadline LIMIT 100'),
  ]);
  const short = forecast.filter((r) => r.days_of_cover !== null).slice(0, 20);
  return [
    section(
      t('stock.cover'),
      chart({
        tooltip: { trigger: 'axis' },
        grid: { left: 160 },
        xAxis: { type: 'value', name: t('col.days_of_cover') },
        yAxis: { type: 'category', data: short.map((r) => `${r.sku} · ${r.warehouse}`), inverse: true },
        series: [{ type: 'bar', data: short.map((r) => ({ value: r.days_of_cover, itemStyle: { color: r.days_of_cover < (r.lead_time_days ?? 0) ? '#d73027' : '#4575b4' } })) }],
      }, { height: 80 + 24 * short.length }),
      table(forecast, { mark: (r) => (r.days_of_cover !== null && r.days_of_cover < (r.lead_time_days ?? 0) ? 'bad' : undefined) }),
    ),
    section(t('stock.requests'), table(requests)),
    section(t('stock.escalations'), table(escalations, { mark: () => 'bad' })),
  ];
}

async function customers(path) {
  const form = el(
    'form',
    { class: 'filters', id: 'search' },
    el('select', { name: 'by' }, ['phone', 'email', 'unionid', 'order'].map((k) => el('option', { value: k }, t(`search.${k}`)))),
    el('input', { name: 'q', required: true, placeholder: t('search.placeholder'), size: 32 }),
    el('button', { type: 'submit' }, t('search.submit')),
  );
  const found = el('div', { id: 'found' });
  const card = el('div', { id: 'card' });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = new FormData(form);
    const query = new URLSearchParams({ [f.get('by')]: f.get('q') });
    try {
      const { customers } = await api(`/v1/customers?${query}`);
      found.replaceChildren(
        customers.length
          ? table(customers, {
              columns: ['mcid', 'linked', 'orders', 'last_seen'],
              cell: (n, row) => (n === 'mcid' ? el('a', { href: `#/customers/${row.mcid}` }, row.mcid) : undefined),
            })
          : el('p', { class: 'empty' }, t('search.none')),
      );
      if (customers.length === 1) location.hash = `#/customers/${customers[0].mcid}`;
    } catch (e) {
      found.replaceChildren(errorBox(e));
    }
  });
  if (path[0]) card.append(loading(() => customerCard(path[0])));
  return [form, found, card];
}

async function customerCard(mcid) {
  const lineage = await api(`/v1/customers/${encodeURIComponent(mcid)}/lineage`);
  const s = lineage.summary ?? {};
  const facts = ['mcid', 'first_order_at', 'last_order_at', 'orders', 'channels', 'total_amount', 'phones', 'emails', 'erased_at'];
  return [
    el(
      'div',
      { class: 'card' },
      el('h2', {}, lineage.mcid, lineage.retired ? el('small', {}, ` ← ${lineage.requested_mcid}`) : null),
      el('dl', {}, facts.filter((k) => s[k] !== undefined && s[k] !== null).map((k) => [el('dt', {}, t(`col.${k}`)), el('dd', {}, show(s[k]))])),
      el('a', { class: 'button', href: `/v1/customers/${encodeURIComponent(lineage.mcid)}/lineage.pdf`, download: `${lineage.mcid}.pdf` }, t('customer.pdf')),
    ),
    section(t('customer.graph'), lineageGraph(lineage)),
    section(t('customer.identifiers'), table(lineage.identifiers, { columns: ['kind', 'value', 'decision', 'rule', 'orders', 'detail'], mark: (r) => (r.decision === 'refused' ? 'muted' : undefined) })),
    section(t('customer.orders'), table(lineage.orders.map((o) => ({ channel: o.channel, order_id: o.order_id, ordered_at: o.ordered_at, amount: o.amount, status: o.status })))),
    lineage.merged_mcids.length ? section(t('customer.merged'), table(lineage.merged_mcids)) : null,
    lineage.corrections.length ? section(t('customer.corrections'), table(lineage.corrections)) : null,
  ];
}

/** Orders drawn one by one up to this many; past it, one node per channel and month. */
const DRAWN_ORDERS = 40;

/**
 * The lineage as a graph: the customer, its orders and their identifiers;
 * linked identifiers drawn solid, refused ones dashed and grey, merged
 * MCIDs hanging off the customer. A heavy buyer's orders are drawn as one
 * node per channel and business month, sized by its orders, so that the
 * identifiers stay readable.
 */
function lineageGraph(lineage) {
  const grouped = lineage.orders.length > DRAWN_ORDERS;
  const nodes = [{ id: lineage.mcid, name: lineage.mcid, category: 0, symbolSize: 42 }];
  const links = [];
  // The node each order is drawn as, and how many orders each node holds.
  const drawnAs = new Map();
  const held = new Map();
  for (const o of lineage.orders) {
    const key = `${o.channel}:${o.order_id}`;
    const id = grouped ? `${o.channel} · ${localTime(o.ordered_at).slice(0, 7)}` : key;
    drawnAs.set(key, id);
    held.set(id, (held.get(id) ?? 0) + 1);
  }
  for (const [id, n] of held) {
    nodes.push({ id, name: grouped ? `${id} ×${n}` : id, value: n, category: 1, symbolSize: grouped ? 12 + 4 * Math.sqrt(n) : 18 });
    links.push({ source: lineage.mcid, target: id });
  }
  for (const i of lineage.identifiers) {
    if (i.kind === 'correction') continue;
    const id = `${i.kind}:${i.value}`;
    const refused = i.decision !== 'linked';
    if (!nodes.some((n) => n.id === id)) nodes.push({ id, name: id, category: refused ? 3 : 2, symbolSize: 14 });
    const reached = new Map();
    for (const key of i.order_keys ?? []) {
      const target = drawnAs.get(key);
      if (target) reached.set(target, (reached.get(target) ?? 0) + 1);
    }
    for (const [target, n] of reached) {
      const width = 1 + Math.log2(n);
      links.push({ source: target, target: id, value: n, lineStyle: refused ? { type: 'dashed', color: '#aaa', width } : { color: '#4575b4', width } });
    }
  }
  for (const m of lineage.merged_mcids) {
    const id = m.old_mcid;
    if (!id || nodes.some((n) => n.id === id)) continue;
    nodes.push({ id, name: id, category: 4, symbolSize: 26 });
    links.push({ source: id, target: lineage.mcid, lineStyle: { type: 'dotted' } });
  }
  const categories = ['customer', grouped ? 'group' : 'order', 'linked', 'refused', 'merged'].map((c) => ({ name: t(`graph.${c}`) }));
  return [
    grouped ? el('p', { class: 'hint' }, t('graph.grouped', { orders: lineage.orders.length, groups: held.size })) : null,
    chart({
      tooltip: {},
      legend: { data: categories.map((c) => c.name) },
      series: [{ type: 'graph', layout: 'force', roam: true, draggable: true, categories, data: nodes, links, force: { repulsion: 160, edgeLength: 60 }, label: { show: nodes.length <= 60, position: 'right', fontSize: 10 } }],
    }, { height: 480 }),
  ];
}

async function segments() {
  const { segments: list } = await api('/v1/segments');
  const sized = await Promise.all(list.map(async (s) => ({ ...s, months: (await api(s.sizes)).months })));
  return [
    el('p', { class: 'hint' }, t('segments.sizes')),
    ...sized.map((s) =>
      section(
        s.name,
        el('p', {}, s.description ?? ''),
        s.months.length
          ? chart({
              tooltip: { trigger: 'axis' },
              legend: { bottom: 0 },
              grid: { top: 16, bottom: 56, left: 64, right: 24 },
              xAxis: { type: 'category', data: s.months.map((r) => r.month) },
              yAxis: { type: 'value' },
              series: [
                { name: t('segments.entered'), type: 'bar', data: s.months.map((r) => r.entered) },
                { name: t('segments.members'), type: 'line', data: s.months.map((r) => r.members) },
              ],
            }, { height: 220 })
          : el('p', { class: 'empty' }, t('table.empty')),
        exportForm(s.name),
      ),
    ),
  ];
}

function exportForm(name) {
  const form = el(
    'form',
    { class: 'filters' },
    el('label', {}, t('segments.since'), el('input', { name: 'since', type: 'date' })),
    el('button', { type: 'submit' }, t('segments.export')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const since = new FormData(form).get('since');
    const query = new URLSearchParams({ limit: '100000' });
    if (since) query.set('since', `${since}T00:00:00+08:00`);
    try {
      // Page after page (X-Next-Cursor), one header row.
      const parts = [];
      for (;;) {
        const response = await api(`/v1/segments/${name}?${query}`, { accept: 'text/csv', raw: true });
        const text = await response.text();
        parts.push(parts.length ? text.slice(text.indexOf('\n') + 1) : text);
        const next = response.headers.get('X-Next-Cursor');
        if (!next) break;
        query.set('cursor', next);
      }
      download(`${name}.csv`, new Blob(parts, { type: 'text/csv' }));
    } catch (e) {
      form.append(errorBox(e));
    }
  });
  return form;
}

/** Rows shown at most while a result streams in; the download has all. */
const SHOWN_ROWS = 1000;

async function sqlPage() {
  const tables = await sql(
    "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_type, table_name",
  );
  const editor = el('textarea', { id: 'query', rows: 8, spellcheck: 'false' }, 'SELECT * FROM drift_rate_monthly ORDER BY month');
  const out = el('div', { id: 'result' });
  const status = el('span', { class: 'hint' });
  const run = async () => {
    out.replaceChildren();
    status.textContent = t('loading');
    const started = performance.now();
    try {
      const response = await api('/v1/sql', { method: 'POST', body: { sql: editor.value }, accept: 'application/x-ndjson', raw: true });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let rest = '';
      let rows = [];
      let count = 0;
      const flush = () => {
        out.replaceChildren(table(rows));
        status.textContent = t('sql.rows', { n: count, ms: Math.round(performance.now() - started) });
      };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rest += value;
        const lines = rest.split('\n');
        rest = lines.pop();
        for (const line of lines) {
          if (!line) continue;
          count += 1;
          if (rows.length < SHOWN_ROWS) rows.push(JSON.parse(line));
        }
        flush();
      }
      if (rest) {
        count += 1;
        if (rows.length < SHOWN_ROWS) rows.push(JSON.parse(rest));
      }
      flush();
      if (count > SHOWN_ROWS) out.prepend(el('p', { class: 'hint' }, t('sql.shown', { n: SHOWN_ROWS })));
    } catch (e) {
      status.textContent = '';
      out.replaceChildren(errorBox(e));
    }
  };
  const csv = async () => {
    try {
      const response = await api('/v1/sql', { method: 'POST', body: { sql: editor.value }, accept: 'text/csv', raw: true });
      download('result.csv', await response.blob());
    } catch (e) {
      out.replaceChildren(errorBox(e));
    }
  };
  editor.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) run();
  });
  const list = el(
    'ul',
    { class: 'tables' },
    tables.map((r) =>
      el('li', {}, el('a', { href: '#', onclick: (e) => { e.preventDefault(); editor.value = `SELECT * FROM ${r.table_name} LIMIT 100`; run(); } }, r.table_name), r.table_type === 'VIEW' ? el('small', {}, ' view') : null),
    ),
  );
  return el(
    'div',
    { class: 'sql' },
    el('aside', {}, el('h2', {}, t('sql.tables')), list),
    el(
      'div',
      {},
      editor,
      el('div', { class: 'filters' }, el('button', { type: 'button', id: 'run', onclick: run }, t('sql.run')), el('button', { type: 'button', onclick: csv }, t('sql.csv')), status),
      out,
    ),
  );
}

export const PAGES = { overview, status, refunds, stock, customers, segments, sql: sqlPage };
