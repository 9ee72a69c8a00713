/** The dashboard's own small stylesheet (served as {base}/assets/dashboard.css; no CSS framework to ship). */
export const DASHBOARD_CSS = `
:root { --fg: #1d2330; --muted: #5d6675; --line: #d9dde4; --bg: #f6f7f9; --accent: #2563eb; --bad: #b42318; --good: #067647; --warn: #b54708; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1rem; background: #111827; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; flex: 1; }
#live-status { font-size: .8rem; padding: .1rem .5rem; border-radius: 1rem; background: #374151; }
#live-status[data-live="open"] { background: var(--good); }
#live-status[data-live="paused"] { background: var(--warn); }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(26rem, 1fr)); gap: 1rem; padding: 1rem; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: .5rem; padding: .75rem 1rem; overflow: auto; }
.panel h2 { font-size: 1rem; margin: 0 0 .5rem; }
#tasks-panel, #task-detail, #charts-panel { grid-column: 1 / -1; }
table { width: 100%; border-collapse: collapse; font-size: .85rem; }
th, td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.mono, .mono, pre { font-family: ui-monospace, monospace; font-size: .8rem; }
pre { white-space: pre-wrap; word-break: break-all; background: var(--bg); padding: .5rem; border-radius: .25rem; max-height: 24rem; overflow: auto; }
button { font: inherit; padding: .2rem .6rem; border: 1px solid var(--line); border-radius: .3rem; background: #fff; cursor: pointer; }
button:hover { border-color: var(--accent); }
button.danger { color: var(--bad); }
.row-actions { white-space: nowrap; }
.row-actions button + button { margin-left: .25rem; }
header button { background: transparent; color: #fff; }
.filter { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: .5rem; }
.filter label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); }
input, select { font: inherit; padding: .2rem .3rem; border: 1px solid var(--line); border-radius: .3rem; }
.states { display: flex; flex-wrap: wrap; gap: .4rem; margin-bottom: .5rem; }
.state { display: inline-block; padding: 0 .45rem; border-radius: .8rem; font-size: .75rem; background: #e5e7eb; }
.state-SUCCESS { background: #d1fadf; } .state-FAILURE { background: #fee4e2; } .state-REVOKED { background: #f2f4f7; color: var(--muted); }
.state-STARTED, .state-PROGRESS { background: #dbeafe; } .state-RETRY { background: #fef0c7; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 1rem; }
.charts > div { position: relative; height: 14rem; }
.pager, .bulk { display: flex; gap: .5rem; margin: .5rem 0; }
#message:empty { display: none; }
#message { margin: .5rem 1rem 0; padding: .4rem .8rem; border-radius: .3rem; background: #fff; border: 1px solid var(--line); }
#message.error { border-color: var(--bad); color: var(--bad); }
.muted { color: var(--muted); }
tr.selected { background: #eff4ff; }
a { color: var(--accent); }
body.login { display: grid; place-items: center; min-height: 100vh; }
#login-form { background: #fff; padding: 1.5rem; border: 1px solid var(--line); border-radius: .5rem; display: grid; gap: .75rem; min-width: 20rem; }
#login-error { color: var(--bad); margin: 0; }
`;
