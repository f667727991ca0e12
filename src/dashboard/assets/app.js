// The dashboard page (served by `ozy dashboard`, no build step, no library).
// Everything shown comes from the repository or etcd, which are untrusted:
// it enters the DOM only as text (textContent, never innerHTML), and only
// http(s) URLs become links. The server filters and pages; the page asks
// only for what it shows, and refetches a section when /events says it changed.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);

  /** An element with text children only (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  }

  function formatBytes(n) {
    const units = [['P', 1024 ** 5], ['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]];
    for (const [s, size] of units) if (Math.abs(n) >= size) return `${Number((n / size).toFixed(1))}${s}`;
    return `${n}B`;
  }
  const formatCpu = (m) => `${Number((m / 1000).toFixed(2))} CPU`;

  function age(iso) {
    const t = Date.parse(iso);
    if (!Number.isFinite(t)) return '';
    const s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m`;
    if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
    return `${Math.floor(s / 86400)}d`;
  }

  function safeUrl(u) {
    try {
      const url = new URL(u);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
    } catch {
      return null;
    }
  }

  function bar(used, cap, fmt) {
    if (!cap) return el('span', {}, fmt(used));
    const ratio = Math.min(1, used / cap);
    const fill = el('span');
    // CSSOM, not a style attribute: the page's CSP allows no inline styles.
    fill.style.width = `${(ratio * 100).toFixed(1)}%`;
    const b = el('span', { class: `bar${ratio >= 0.95 ? ' full' : ratio >= 0.8 ? ' high' : ''}`, role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': cap, 'aria-valuenow': used }, fill);
    return el('span', { title: `${Math.round(ratio * 100)}% allocated` }, b, `${fmt(used)} / ${fmt(cap)}`);
  }

  async function getJson(path) {
    const res = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
  }

  function fillBody(table, rows, cols, empty) {
    const body = $(table).tBodies[0];
    if (rows.length === 0) body.replaceChildren(el('tr', {}, el('td', { class: 'empty', colspan: cols }, empty)));
    else body.replaceChildren(...rows);
  }

  /** Previous / next and "a–b of n" under a table. */
  function pager(id, page, go) {
    const from = page.total === 0 ? 0 : page.offset + 1;
    const to = page.offset + page.items.length;
    const prev = el('button', { type: 'button', disabled: page.offset === 0 }, '‹ previous');
    const next = el('button', { type: 'button', disabled: to >= page.total }, 'next ›');
    prev.addEventListener('click', () => go(Math.max(0, page.offset - page.limit)));
    next.addEventListener('click', () => go(page.offset + page.limit));
    $(id).replaceChildren(prev, el('span', { class: 'range' }, `${from}–${to} of ${page.total}`), next);
    $(id).hidden = page.total <= page.limit && page.offset === 0;
  }

  // ── what the reader looks at ─────────────────────────────────────────
  const view = {
    jobs: { q: '', state: '', offset: 0, limit: 50 },
    instances: { job: '', state: '', offset: 0, limit: 50 },
    nodes: { offset: 0, limit: 50 },
    rejections: { offset: 0, limit: 20 },
    runs: { offset: 0, limit: 20 },
  };
  const versions = {};

  const qs = (o) => new URLSearchParams(Object.entries(o).filter(([, v]) => v !== '' && v !== null && v !== undefined).map(([k, v]) => [k, String(v)])).toString();

  // ── sections ─────────────────────────────────────────────────────────
  function tile(label, value, detail) {
    return el('div', { class: 'tile' }, el('b', {}, String(value)), label, detail ? el('div', { class: 'muted' }, detail) : null);
  }

  async function loadSummary() {
    const r = await getJson('/api/summary');
    const s = r.summary;
    $('summary').replaceChildren(
      tile('nodes alive', `${s.nodes.alive}/${s.nodes.total}`),
      tile('jobs', s.jobs.total, `${s.jobs.healthy} healthy · ${s.jobs.degraded} degraded · ${s.jobs.pending} pending · ${s.jobs.updating} updating`),
      tile('instances', s.instances.total, `${s.instances.healthy} healthy · ${s.instances.pending} pending · ${s.instances.unhealthy} unhealthy`),
      tile('rejections', s.rejections),
      tile('active cron runs', s.activeRuns),
    );
    $('rev').textContent = `revision ${r.revision}`;
    const sched = s.schedule ? `schedule ${s.schedule.commit.slice(0, 12)} by ${s.schedule.by}, ${age(s.schedule.at)} ago` : 'no schedule yet';
    const git = s.git ? (s.git.gitError ? `git error: ${s.git.gitError}` : `git ${s.git.head ? s.git.head.slice(0, 12) : '-'} (polled by ${s.git.poller})`) : '';
    $('git').textContent = [sched, git].filter(Boolean).join(' · ');
    return r;
  }

  async function loadNodes() {
    const r = await getJson(`/api/nodes?${qs(view.nodes)}`);
    const rows = r.items.map((n) => {
      const cap = n.capacity;
      const git = n.agent ? (n.agent.gitError ? `error: ${n.agent.gitError}` : n.agent.head ? `${n.agent.head.slice(0, 12)}${n.agent.role ? ` (${n.agent.role})` : ''}` : n.agent.role || '-') : '-';
      return el('tr', { 'data-node': n.name },
        el('td', { class: 'mono' }, n.name),
        el('td', { class: n.alive ? 'state-healthy' : 'state-no' }, n.alive ? 'yes' : 'no'),
        el('td', {}, n.zone || '-'),
        el('td', {}, bar(n.allocated.memory, cap && cap.memory, formatBytes)),
        el('td', {}, bar(n.allocated.cpu, cap && cap.cpu, formatCpu)),
        el('td', {}, bar(n.allocated.disk, cap && cap.disk, formatBytes)),
        el('td', {}, String(n.instances)),
        el('td', { class: 'mono' }, git));
    });
    fillBody('nodes', rows, 8, 'no node has registered');
    $('nodes-count').textContent = `(${r.total})`;
    pager('nodes-pager', r, (o) => { view.nodes.offset = o; reload('nodes'); });
    return r;
  }

  function jobNext(j) {
    if (j.cron) return `next ${j.cron.nextRunAt ? new Date(j.cron.nextRunAt).toISOString().replace('.000Z', 'Z') : 'never'}${j.cron.active ? `, ${j.cron.active} active` : ''}`;
    if (j.autoscale) return `${j.autoscale.count} (${j.autoscale.min}–${j.autoscale.max}), CPU ${j.autoscale.measuredPercent === null ? '-' : `${j.autoscale.measuredPercent}%`} of ${j.autoscale.targetPercent}%: ${j.autoscale.state}`;
    return '';
  }

  let jobsPainted = false;
  async function loadJobs() {
    const r = await getJson(`/api/jobs?${qs(view.jobs)}`);
    const rows = r.items.map((j) => {
      const name = el('button', { type: 'button', class: 'link mono', title: 'show its instances' }, j.name);
      name.addEventListener('click', () => selectJob(j.name));
      let state = j.rollout;
      if (j.update) state = `${j.update.kind} ${j.update.done}/${j.update.total} to ${j.update.commit.slice(0, 12)}${j.update.halted ? ' (halted)' : ''}${j.update.blocked ? ` (blocked: ${j.update.blocked})` : ''}`;
      if (j.failedUpdate && !j.update) state += ` · update to ${j.failedUpdate.commit.slice(0, 12)} failed: ${j.failedUpdate.reason}`;
      if (j.rejected) state += ' · rejected (see reports)';
      return el('tr', { 'data-job': j.name, class: j.name === view.instances.job ? 'selected' : '' },
        el('td', {}, name),
        el('td', {}, j.type),
        el('td', { class: `state-${j.status}` }, `${j.healthy}/${j.desired}${j.pending ? ` (${j.pending} pending)` : ''}`),
        el('td', { class: 'mono', title: j.commit }, j.commit.slice(0, 12)),
        el('td', { class: 'why' }, state),
        el('td', {}, jobNext(j)),
        el('td', { class: 'mono' }, j.file));
    });
    fillBody('jobs', rows, 7, view.jobs.q || view.jobs.state ? 'no job matches' : 'no accepted job');
    $('jobs-count').textContent = `(${r.total})`;
    pager('jobs-pager', r, (o) => { view.jobs.offset = o; reload('jobs'); });
    if (!jobsPainted && rows.length > 0) {
      jobsPainted = true;
      // What the benchmark reads: navigation → first jobs rendered.
      performance.mark('ozy-jobs-rendered');
    }
    return r;
  }

  function selectJob(name) {
    view.instances.job = name;
    view.instances.offset = 0;
    for (const tr of $('jobs').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.job === name);
    reload('instances');
  }

  /** Why an instance is as it is: the message, the last restart's cause, each node's reason for a pending one. */
  function why(i) {
    const out = [i.message || ''];
    if (i.lastRestart) out.push(el('div', { class: 'muted' }, `last restart ${age(i.lastRestart.at)} ago: ${i.lastRestart.cause}`));
    const nodes = i.nodeReasons ? Object.entries(i.nodeReasons) : [];
    if (nodes.length > 0) {
      out.push(el('details', {}, el('summary', {}, `why not on each node (${nodes.length})`),
        el('ul', {}, ...nodes.map(([n, r]) => el('li', {}, el('code', {}, n), ` ${r}`)))));
    }
    return out;
  }

  async function loadInstances() {
    const r = await getJson(`/api/instances?${qs(view.instances)}`);
    const rows = r.items.map((i) =>
      el('tr', { 'data-instance': i.instance },
        el('td', { class: 'mono' }, i.instance),
        el('td', { class: 'mono' }, i.node || '-'),
        el('td', {}, i.away ? `${i.zone || '-'} (${i.away})` : i.zone || '-'),
        el('td', { class: `state-${i.state}` }, i.state),
        el('td', { class: `state-${i.health === 'healthy' ? 'healthy' : i.health === 'unhealthy' ? 'unhealthy' : 'pending'}` }, i.health),
        el('td', {}, String(i.restarts)),
        el('td', { title: i.since }, age(i.since)),
        el('td', { class: 'why' }, ...why(i))));
    fillBody('instances', rows, 8, view.instances.job ? `no instance of ${view.instances.job}${view.instances.state ? ' in that state' : ''}` : 'no instance');
    $('instances-of').textContent = view.instances.job ? `of ${view.instances.job}` : 'of every job';
    $('all-instances').hidden = !view.instances.job;
    $('instances-count').textContent = `(${r.total})`;
    pager('instances-pager', r, (o) => { view.instances.offset = o; reload('instances'); });
    return r;
  }

  async function loadRejections() {
    const r = await getJson(`/api/rejections?${qs(view.rejections)}`);
    const cards = r.items.map((p) => {
      const url = p.type ? safeUrl(p.type) : null;
      const link = url ? el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, p.code) : el('span', {}, p.code);
      const fields = p.errors.length
        ? el('ul', {}, ...p.errors.map((e) => el('li', {}, el('code', {}, e.pointer), ' ', e.message)))
        : null;
      return el('article', { class: 'rejection', 'data-rejection': p.key },
        el('h3', {}, p.title),
        el('p', { class: 'muted' }, el('span', { class: 'mono' }, p.key), ` · commit ${p.commit.slice(0, 12)} · ${age(p.at)} ago${p.file ? ` · ${p.file}` : ''} · `, link),
        el('p', { class: 'detail' }, p.detail),
        fields);
    });
    if (cards.length === 0) $('rejections').replaceChildren(el('p', { class: 'empty' }, 'none: every job in git is accepted'));
    else $('rejections').replaceChildren(...cards);
    $('rejections-count').textContent = `(${r.total})`;
    pager('rejections-pager', r, (o) => { view.rejections.offset = o; reload('rejections'); });
    return r;
  }

  async function loadRuns() {
    const r = await getJson(`/api/runs?${qs(view.runs)}`);
    const rows = r.items.map((x) =>
      el('tr', { 'data-run': x.run },
        el('td', { class: 'mono' }, x.run),
        el('td', { class: 'mono' }, x.job),
        el('td', { class: `state-${x.state === 'succeeded' ? 'healthy' : x.state === 'failed' || x.state === 'missed' ? 'failed' : 'pending'}` }, x.attempt > 0 ? `${x.state} (attempt ${x.attempt + 1})` : x.state),
        el('td', { title: x.at || '' }, x.at ? `${age(x.at)} ago` : '-'),
        el('td', { class: 'mono' }, x.nodes.join(', ') || '-'),
        el('td', { class: 'why' }, x.reason || '')));
    fillBody('runs', rows, 6, 'no cron run yet');
    $('runs-count').textContent = `(${r.total})`;
    pager('runs-pager', r, (o) => { view.runs.offset = o; reload('runs'); });
    return r;
  }

  // ── loading: one fetch per section at a time; a change during it means one more ──
  const loaders = { summary: loadSummary, nodes: loadNodes, jobs: loadJobs, instances: loadInstances, rejections: loadRejections, runs: loadRuns };
  const busy = {};
  const again = {};

  async function reload(section) {
    if (busy[section]) {
      again[section] = true;
      return;
    }
    busy[section] = true;
    try {
      do {
        again[section] = false;
        try {
          const r = await loaders[section]();
          if (r && r.versions) versions[section] = r.versions[section];
          document.body.dataset[`${section}Revision`] = String(r && r.revision);
        } catch (err) {
          setConn('down', `error: ${err.message}`);
        }
      } while (again[section]);
    } finally {
      busy[section] = false;
    }
  }

  function setConn(cls, text) {
    $('conn').className = `conn ${cls}`;
    $('conn').textContent = text;
  }

  // ── filters ──────────────────────────────────────────────────────────
  let typing;
  $('job-q').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      view.jobs.q = $('job-q').value.trim();
      view.jobs.offset = 0;
      reload('jobs');
    }, 150);
  });
  $('job-state').addEventListener('change', () => {
    view.jobs.state = $('job-state').value;
    view.jobs.offset = 0;
    reload('jobs');
  });
  $('instance-state').addEventListener('change', () => {
    view.instances.state = $('instance-state').value;
    view.instances.offset = 0;
    reload('instances');
  });
  $('all-instances').addEventListener('click', () => selectJob(''));

  // ── live: the event stream names the sections that changed ───────────
  function connect() {
    const es = new EventSource('/events');
    es.addEventListener('open', () => setConn('live', 'live'));
    es.addEventListener('error', () => setConn('down', 'reconnecting…'));
    // After a (re)connect: refetch whatever moved while we were away.
    es.addEventListener('hello', (e) => {
      const h = JSON.parse(e.data);
      for (const s of Object.keys(loaders)) if (versions[s] !== h.versions[s]) reload(s);
    });
    es.addEventListener('change', (e) => {
      const c = JSON.parse(e.data);
      $('rev').textContent = `revision ${c.revision}`;
      for (const s of c.changed) if (loaders[s]) reload(s);
    });
  }

  for (const s of Object.keys(loaders)) reload(s);
  connect();
})();
