// Pipeline runs (beyond the original dashboard): the scheduler's state
// (pipeline-runs/schedule/), the recent runs with their workflow, duration,
// counts and errors (pipeline-runs/), and a run's recorded errors
// (pipeline-runs/errors/?run=, for callers that may read every site).

import { get, all } from '../api.js';
import { h, replace, empty, card, errorBox, loading } from '../dom.js';
import { region, table, pager, selectField, pageSize, intParam, headerRow, scrollRegion } from '../widgets.js';
import { chart } from '../charts.js';
import { query, setQuery } from '../router.js';
import { num, day, dateTime, relative, duration } from '../format.js';

const STATUSES = ['running', 'ok', 'partial', 'failed'];
const KINDS = ['run', 'backfill', 'compare'];

export function render(main, ctx) {
  ctx.title('Pipeline runs');
  const q = query();
  const state = { status: q.get('status') || '', kind: q.get('kind') || '', limit: pageSize(q), offset: intParam(q, 'offset', 0) };
  const schedule = h('div');
  const results = h('div', { class: 'results' });
  main.append(h('h1', { tabindex: '-1' }, 'Pipeline runs'),
    h('p', { class: 'lede' }, 'The pipeline reads the LMS and writes the metrics every page shows. One run covers every site.'),
    card('Schedule', schedule),
    h('div', { class: 'toolbar' },
      selectField({ label: 'Status', value: state.status, options: [{ value: '', label: 'Any status' }, ...STATUSES.map((s) => ({ value: s, label: s }))], onChange: (v) => { state.status = v; state.offset = 0; load(); } }),
      selectField({ label: 'Kind', value: state.kind, options: [{ value: '', label: 'Any kind' }, ...KINDS.map((s) => ({ value: s, label: s }))], onChange: (v) => { state.kind = v; state.offset = 0; load(); } })),
    results);

  const s = region(ctx, schedule, 'the schedule', (signal) => get('pipeline-runs/schedule/', {}, { signal }), (sc) => {
    if (!sc.schedule) {
      return h('p', { class: 'schedule', dataset: { schedule: '' } },
        'This server runs no scheduler: runs come from cron, a systemd timer or ',
        h('code', null, 'figures run'), ' in other processes, and appear below when they start.');
    }
    return h('p', { class: 'schedule', dataset: { schedule: sc.schedule } },
      'Runs ', h('strong', null, sc.schedule), ' (UTC). ',
      sc.next_run ? ['Next run ', h('time', { datetime: sc.next_run, class: 'next-run' }, dateTime(sc.next_run)), ` (${relative(sc.next_run)}). `] : 'The next run is not planned yet. ',
      sc.running ? h('span', { class: 'badge badge-running' }, 'A scheduled run is in progress') : null);
  });

  function load() {
    setQuery({ status: state.status, kind: state.kind, limit: state.limit === 20 ? '' : state.limit, offset: state.offset || '' });
    const params = { status: state.status, kind: state.kind, limit: state.limit, offset: state.offset };
    return ctx.track(region(ctx, results, 'the runs', (signal) => get('pipeline-runs/', params, { signal }), (page) => {
      results.dataset.count = String(page.count);
      if (page.count === 0) return empty(state.status || state.kind ? 'No run matches these filters.' : 'The pipeline has not run yet.');
      const nav = () => pager({
        count: page.count, limit: state.limit, offset: state.offset, noun: 'runs',
        onChange: (offset, limit) => { state.offset = offset; state.limit = limit; load(); },
      });
      const finished = [...page.results].reverse().filter((r) => r.duration_seconds !== null);
      return [
        finished.length ? chart({
          title: 'Duration of the runs on this page, oldest first', xLabel: 'Run',
          labels: finished.map((r) => `#${r.id} ${r.date_for || ''}`.trim()),
          series: [{ label: 'Duration', data: finished.map((r) => r.duration_seconds) }], format: duration, integer: false,
        }) : null,
        nav(),
        runTable(ctx, page.results),
        page.count > state.limit ? nav() : null,
      ];
    }));
  }
  return Promise.all([s, load()]);
}

const RUN_COLUMNS = [
  { label: 'Run' }, { label: 'Status' }, { label: 'Day' }, { label: 'Workflow' }, { label: 'Started' },
  { label: 'Duration', num: true }, { label: 'Courses', num: true }, { label: 'Examined', num: true },
  { label: 'Updated', num: true }, { label: 'LMS queries', num: true }, { label: 'Errors', num: true },
];

// runTable has a row of figures per run and, under it, the run's message
// (what it did, or why it failed) across the whole width, where a long
// message reads as the log line it is.
function runTable(ctx, runs) {
  const rows = [];
  for (const r of runs) {
    const days = r.date_to && r.date_to !== r.date_for ? `${day(r.date_for)} – ${day(r.date_to)}` : day(r.date_for);
    const workflow = `${r.kind === 'run' ? '' : `${r.kind} · `}${r.workflow} · ${r.grades} grades`;
    rows.push(h('tr', { class: 'run-row', dataset: { runId: String(r.id) } },
      h('th', { scope: 'row' }, `#${r.id}`),
      h('td', null, h('span', { class: `badge badge-${r.status}` }, r.status)),
      h('td', null, days),
      h('td', null, workflow),
      h('td', null, h('time', { datetime: r.started }, dateTime(r.started))),
      h('td', { class: 'num' }, r.duration_seconds === null ? 'running' : duration(r.duration_seconds)),
      h('td', { class: 'num' }, num(r.courses)),
      h('td', { class: 'num' }, num(r.enrollments_examined)),
      h('td', { class: 'num' }, num(r.enrollments_updated)),
      h('td', { class: 'num' }, num(r.lms_statements)),
      h('td', { class: 'num' }, r.errors ? h('button', {
        type: 'button', class: 'button button-small button-danger', 'aria-expanded': 'false',
        'aria-label': `Show the ${r.errors} errors of run ${r.id}`,
        onclick: (ev) => toggleErrors(ctx, ev.currentTarget, r),
      }, `${num(r.errors)} ▸`) : '0')));
    if (r.message) {
      rows.push(h('tr', { class: 'message-row' }, h('td', { colspan: String(RUN_COLUMNS.length), class: 'wrap' },
        h('span', { class: 'visually-hidden' }, `Message of run ${r.id}: `), r.message)));
    }
  }
  return scrollRegion('Pipeline runs', h('table', { class: 'data runs-table' },
    h('caption', { class: 'visually-hidden' }, 'Pipeline runs, newest first'),
    headerRow(RUN_COLUMNS, '', () => {}),
    h('tbody', null, rows)));
}

// toggleErrors shows or hides a run's errors in a row below it.
function toggleErrors(ctx, button, run) {
  const tr = button.closest('tr');
  // The errors go below the run's message, when it has one.
  const anchor = tr.nextElementSibling && tr.nextElementSibling.classList.contains('message-row') ? tr.nextElementSibling : tr;
  const open = anchor.nextElementSibling;
  if (open && open.classList.contains('errors-row')) {
    open.remove();
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-label', `Show the ${run.errors} errors of run ${run.id}`);
    button.textContent = `${num(run.errors)} ▸`;
    return;
  }
  const box = h('div', null, loading(`the errors of run ${run.id}`));
  const row = h('tr', { class: 'errors-row' }, h('td', { colspan: String(RUN_COLUMNS.length), class: 'wrap' }, box));
  anchor.after(row);
  button.setAttribute('aria-expanded', 'true');
  button.setAttribute('aria-label', `Hide the errors of run ${run.id}`);
  button.textContent = `${num(run.errors)} ▾`;
  ctx.track(all('pipeline-runs/errors/', { run: run.id }, { signal: ctx.signal, max: 1000 }).then((errs) => {
    replace(box, errs.length ? errorList(run, errs) : empty('No error rows were recorded for this run.'));
  }, (err) => {
    if (ctx.signal.aborted) return;
    if (err.status === 403) {
      replace(box, h('p', { class: 'state notice' },
        'Error details name courses and learners of every site, so only callers that can read every site see them ',
        '(an API token made with --all, or LMS staff). ', h('span', { class: 'muted' }, err.message)));
      return;
    }
    replace(box, errorBox(`the errors of run ${run.id}`, err));
  }));
}

function errorList(run, errs) {
  return table({
    caption: `Errors of run ${run.id}`,
    rows: errs,
    columns: [
      { label: 'Type', cell: (e) => e.error_type },
      { label: 'Course', cell: (e) => (e.course_id ? h('code', null, e.course_id) : '—') },
      { label: 'User id', num: true, cell: (e) => (e.user_id === null ? '—' : String(e.user_id)) },
      { label: 'Site id', num: true, cell: (e) => (e.site_id === null ? '—' : String(e.site_id)) },
      { label: 'Recorded', cell: (e) => dateTime(e.created) },
      { label: 'Details', wrap: true, cell: (e) => h('code', { class: 'error-data' }, typeof e.error_data === 'string' ? e.error_data : JSON.stringify(e.error_data)) },
    ],
  });
}
