// p2ptracker dashboard: polls the JSON API every 2 s and draws every active
// transfer (global progress, one row per rack, representatives, stuck peers, a
// plot of completed hosts over time). Plain DOM, no framework, no build step;
// served from memory by src/admin/dashboard_api.cc.
//
// Rendering is keyed: a transfer's card and a rack's row are created once and
// then updated in place, so bars animate and rows keep their place between
// polls. Every value the page shows is also in a data-* attribute
// (data-hash, data-rack, data-progress, data-peer, data-representative,
// data-stuck...), which tests/integration/test_dashboard.py reads.
'use strict';

(function () {
  const POLL_MS = 2000;
  const FETCH_TIMEOUT_MS = 5000;
  // Hosts drawn per rack; past this, representatives and stuck peers are still
  // drawn and the rest is counted in a "+N" chip.
  const MAX_CHIPS = 64;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const cards = new Map();  // info_hash -> card (see createCard)
  let polls = 0;

  // --- DOM helpers --------------------------------------------------------

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setText(node, text) {
    text = String(text);
    if (node.textContent !== text) node.textContent = text;
  }

  function setData(node, values) {
    for (const [k, v] of Object.entries(values)) {
      const s = String(v);
      if (node.dataset[k] !== s) node.dataset[k] = s;
    }
  }

  // --- formatting ---------------------------------------------------------

  function percent(v) {
    return Number(v).toFixed(1) + '%';
  }

  function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
  }

  function two(n) {
    return String(n).padStart(2, '0');
  }

  function clock(date) {
    const time = two(date.getHours()) + ':' + two(date.getMinutes()) + ':' + two(date.getSeconds());
    const today = new Date();
    if (date.toDateString() === today.toDateString()) return time;
    return date.getFullYear() + '-' + two(date.getMonth() + 1) + '-' + two(date.getDate()) + ' ' + time;
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + ' s';
    const m = Math.floor(seconds / 60);
    if (m < 60) return m + ' min ' + two(seconds % 60) + ' s';
    const h = Math.floor(m / 60);
    if (h < 48) return h + ' h ' + two(m % 60) + ' min';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }

  // The tracker's time, as its last answer's Date header gave it against this
  // browser's clock: "elapsed" and the plot's "now" are measured on the clock
  // the stats' times are on, whatever this machine's clock says.
  let trackerOffsetMs = 0;

  function trackerNow() {
    return Date.now() + trackerOffsetMs;
  }

  function parseTime(iso) {
    return iso ? new Date(iso) : null;
  }

  // "127.0.1.7:6881" -> ".7"; "[2001:db8::1a]:6881" -> ":1a": what tells hosts
  // of one rack apart.
  // A host's address without what its rack-mates share: the last part, or
  // the last two when they are not all in one network of the rest (a rack of
  // a map file or an inventory may span several /24s).
  function hostLabel(endpoint, parts) {
    const v6 = /^\[(.*)\]:\d+$/.exec(endpoint);
    if (v6) return ':' + v6[1].split(':').slice(-parts).join(':');
    const ip = endpoint.replace(/:\d+$/, '');
    return '.' + ip.split('.').slice(-parts).join('.');
  }

  // How many parts of the address hostLabel shows for `members`.
  function labelParts(members) {
    const network = m => {
      const v6 = /^\[(.*)\]:\d+$/.exec(m.peer);
      return v6 ? v6[1].split(':').slice(0, -1).join(':')
                : m.peer.replace(/:\d+$/, '').split('.').slice(0, -1).join('.');
    };
    return new Set(members.map(network)).size > 1 ? 2 : 1;
  }

  // --- data ---------------------------------------------------------------

  async function getJSON(url) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), FETCH_TIMEOUT_MS);
    try {
      const r = await fetch(url, {cache: 'no-store', signal: abort.signal});
      const date = Date.parse(r.headers.get('Date') || '');
      if (!Number.isNaN(date)) trackerOffsetMs = date - Date.now();
      let body = null;
      try {
        body = await r.json();
      } catch (e) {
        body = null;
      }
      if (!r.ok) {
        const err = new Error((body && body.error) || ('HTTP ' + r.status + ' for ' + url));
        err.status = r.status;
        throw err;
      }
      return body;
    } catch (e) {
      if (e.name === 'AbortError') throw new Error('no answer from the tracker within 5 s');
      if (e instanceof TypeError) throw new Error('tracker unreachable');  // fetch's network error
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  async function load() {
    const registered = await getJSON('api/v1/transfers/');
    const hashes = Object.keys(registered);
    const stats = await Promise.all(hashes.map(h =>
      getJSON('api/v1/transfers/' + h + '?racks=1&peers=1').catch(e => {
        if (e.status === 404) return null;  // deregistered since the list was read
        throw e;
      })));
    return stats.filter(s => s && s.global && s.global.active !== false)
        .sort((a, b) => (b.global.started || '').localeCompare(a.global.started || '') ||
                        a.global.info_hash.localeCompare(b.global.info_hash));
  }

  // --- one transfer -------------------------------------------------------

  function createBar(role) {
    const bar = el('div', 'bar');
    bar.dataset.role = role;
    const track = el('div', 'bar-track');
    const fill = el('div', 'bar-fill');
    track.append(fill);
    const label = el('span', 'bar-label');
    bar.append(track, label);
    return {bar, fill, label};
  }

  function updateBar(b, progress, kind) {
    setData(b.bar, {progress: progress});
    b.bar.className = 'bar' + (kind ? ' ' + kind : '');
    b.fill.style.width = Math.max(0, Math.min(100, progress)) + '%';
    setText(b.label, percent(progress));
  }

  function stat(dl, label, key) {
    const box = el('div', 'stat');
    const dt = el('dt', null, label);
    const dd = el('dd');
    dd.dataset.stat = key;
    box.append(dt, dd);
    dl.append(box);
    return dd;
  }

  function createCard(hash) {
    const root = el('article', 'transfer');
    root.dataset.hash = hash;

    const head = el('div', 'card-head');
    const main = el('div', 'head-main');
    const titleRow = el('div', 'title-row');
    const name = el('h2', 'name');
    const badge = el('span', 'badge');
    const stuckBadge = el('span', 'badge badge-stuck');
    // Without the private flag, DHT and peer exchange hand clients peers the
    // tracker never chose: the racks' bound no longer holds.
    const privateBadge = el('span', 'badge badge-stuck badge-public');
    privateBadge.textContent = 'not private';
    privateBadge.title = 'The torrent is not private: DHT and peer exchange let clients find ' +
        'peers behind the tracker, across racks. Make it with the private flag (make-torrent does).';
    privateBadge.hidden = true;
    const hashCode = el('code', 'hash', hash.slice(0, 12) + '…');
    hashCode.title = hash;
    titleRow.append(name, badge, stuckBadge, privateBadge, hashCode);

    const global = createBar('global');
    global.bar.classList.add('big');

    const dl = el('dl', 'stats');
    const stats = {
      peers: stat(dl, 'Peers', 'peers'),
      seeders: stat(dl, 'Seeders', 'seeders'),
      leechers: stat(dl, 'Leechers', 'leechers'),
      racks: stat(dl, 'Racks', 'racks'),
      representatives: stat(dl, 'Representatives', 'representatives'),
      completed: stat(dl, 'Completed', 'completed'),
      stuck: stat(dl, 'Stuck', 'stuck'),
      slow: stat(dl, 'Slow announcers', 'slow_announcers'),
      size: stat(dl, 'Size', 'size'),
    };

    const times = el('div', 'times');
    const timeCells = {};
    for (const [key, label] of [['started', 'Registered'], ['first_start', 'First start'],
                                ['first_complete', 'First done'], ['last_complete', 'Last done'],
                                ['elapsed', 'Elapsed']]) {
      const item = el('span', 'time');
      item.append(el('span', 'time-label', label));
      const value = el('span', 'time-value');
      value.dataset.time = key;
      item.append(value);
      times.append(item);
      timeCells[key] = value;
    }
    main.append(titleRow, global.bar, dl, times);

    const figure = el('figure', 'plot-box');
    const caption = el('figcaption', 'plot-caption');
    const plot = svgEl('svg', {class: 'plot', viewBox: '0 0 320 130', role: 'img'});
    figure.append(caption, plot);
    head.append(main, figure);

    const table = el('table', 'racks');
    const thead = el('thead');
    const hr = el('tr');
    for (const [text, title, cls] of [['Rack', 'rack (topology)', ''],
                                      ['Progress', 'mean of the rack\'s peers', ''],
                                      ['N', 'peers in the rack', 'num'],
                                      ['R', 'representatives: the peers that fetch from other racks', 'num'],
                                      ['S', 'seeders', 'num'],
                                      ['Stuck', 'downloading peers without progress', 'num'],
                                      ['Hosts', 'R: representative; green: seeder; red: stuck', '']]) {
      const th = el('th', cls, text);
      th.title = title;
      hr.append(th);
    }
    thead.append(hr);
    const tbody = el('tbody');
    table.append(thead, tbody);
    const tableBox = el('div', 'racks-box');
    tableBox.append(table);

    // Rows and datacenters above the racks, when the topology has them.
    const levels = el('ul', 'levels');
    levels.hidden = true;

    root.append(head, tableBox, levels);
    return {root, name, badge, stuckBadge, privateBadge, global, stats, timeCells, caption, plot, tbody,
            levels, rows: new Map()};
  }

  function setTime(cell, iso) {
    const d = parseTime(iso);
    setText(cell, d ? clock(d) : '—');
    cell.title = iso || 'not yet';
    cell.dataset.iso = iso || '';
  }

  function updateCard(card, t) {
    const g = t.global;
    // Two releases of one payload share its name: the file tells them apart.
    setText(card.name, g.name && g.name !== g.file ? g.name + ' \u2014 ' + g.file : g.file);
    card.name.title = g.file;
    const complete = !!g.complete;
    setData(card.root, {progress: g.progress, peers: g.peers, seeders: g.seeders,
                        racks: g.racks, stuck: g.stuck, complete: complete});
    card.root.classList.toggle('is-complete', complete);
    // A finished deploy stays "complete" after its hosts have left.
    setText(card.badge, complete ? 'complete' : g.peers ? 'in progress'
        : g.peers_seen ? 'hosts have left' : 'waiting for peers');
    card.badge.className = 'badge ' + (complete ? 'badge-done' : g.peers ? 'badge-live' : 'badge-idle');
    card.stuckBadge.hidden = !g.stuck;
    setText(card.stuckBadge, g.stuck + ' stuck');
    card.privateBadge.hidden = g.private !== false;

    updateBar(card.global, complete && !g.peers ? 100 : g.progress, complete ? 'done' : '');
    setText(card.stats.peers, g.peers);
    setText(card.stats.seeders, g.seeders);
    setText(card.stats.leechers, g.leechers);
    setText(card.stats.racks, g.racks);
    setText(card.stats.representatives, g.representatives);
    // Hosts that finished of those that joined, those that have left included.
    setText(card.stats.completed, g.finished + ' / ' + g.peers_seen);
    setText(card.stats.stuck, g.stuck);
    card.stats.stuck.classList.toggle('alert', g.stuck > 0);
    // Hosts announcing on their own, slower schedule (docs/clients.md).
    setText(card.stats.slow, g.slow_announcers);
    card.stats.slow.title = 'downloading hosts announcing over twice the asked interval apart';
    setText(card.stats.size, bytes(g.size));
    card.stats.size.title = g.size + ' bytes';

    setTime(card.timeCells.started, g.started);
    setTime(card.timeCells.first_start, g.first_start);
    setTime(card.timeCells.first_complete, g.first_complete);
    setTime(card.timeCells.last_complete, g.last_complete);
    const from = parseTime(g.first_start);
    const to = complete && g.last_complete ? parseTime(g.last_complete) : new Date(trackerNow());
    setText(card.timeCells.elapsed, from ? duration((to - from) / 1000) : '—');
    card.timeCells.elapsed.title = complete ? 'first start to last completion' : 'since the first start';

    setText(card.caption, 'Completed hosts: ' + (g.completions || []).length + ' of ' + g.peers);
    drawPlot(card.plot, g);
    updateRacks(card, t.racks || {}, t.levels || {});
    updateLevels(card, t.levels || {});
  }

  // One line per row and datacenter: its level, its name, who represents it.
  function updateLevels(card, levels) {
    const names = Object.keys(levels).sort((a, b) =>
        a.localeCompare(b, undefined, {numeric: true}));
    card.levels.hidden = names.length === 0;
    const signature = JSON.stringify(names.map(n => [n, levels[n].representatives]));
    if (card.levels.dataset.signature === signature) return;
    card.levels.dataset.signature = signature;
    card.levels.replaceChildren(...names.map(name => {
      const g = levels[name];
      const li = el('li', 'level');
      li.dataset.group = name;
      li.dataset.level = g.level;
      const reps = g.representatives || [];
      li.append(el('span', 'level-name', g.level + ' ' + name),
                el('span', 'level-reps', reps.length ? 'R: ' + reps.join(', ') : 'no representative'));
      return li;
    }));
  }

  // --- racks --------------------------------------------------------------

  function createRow(name) {
    const tr = el('tr', 'rack');
    tr.dataset.rack = name;
    const nameCell = el('td', 'rack-name', name);
    const progressCell = el('td', 'rack-progress');
    const bar = createBar('rack');
    progressCell.append(bar.bar);
    const n = el('td', 'num');
    n.dataset.col = 'N';
    const r = el('td', 'num');
    r.dataset.col = 'R';
    const s = el('td', 'num');
    s.dataset.col = 'S';
    const stuck = el('td', 'num');
    stuck.dataset.col = 'stuck';
    const hosts = el('td', 'hosts');
    tr.append(nameCell, progressCell, n, r, s, stuck, hosts);
    return {tr, bar, n, r, s, stuck, hosts, signature: ''};
  }

  // The groups above its rack each host represents, outermost first:
  // [{level: 'dc', group: 'ams1'}, {level: 'row', group: 'ams1/row1'}].
  function placesAbove(levels) {
    const above = new Map();
    const names = Object.keys(levels).sort((a, b) => a.split('/').length - b.split('/').length);
    for (const name of names) {
      for (const peer of levels[name].representatives || []) {
        if (!above.has(peer)) above.set(peer, []);
        above.get(peer).push({level: levels[name].level, group: name});
      }
    }
    return above;
  }

  function updateRacks(card, racks, levels) {
    const above = placesAbove(levels);
    const names = Object.keys(racks).sort((a, b) =>
        a.localeCompare(b, undefined, {numeric: true}));
    const seen = new Set(names);
    for (const [name, row] of card.rows) {
      if (!seen.has(name)) {
        row.tr.remove();
        card.rows.delete(name);
      }
    }
    names.forEach((name, i) => {
      const rack = racks[name];
      let row = card.rows.get(name);
      if (!row) {
        row = createRow(name);
        card.rows.set(name, row);
      }
      setData(row.tr, {progress: rack.progress, n: rack.N, r: rack.R, s: rack.S,
                       stuck: rack.stuck, complete: !!rack.complete});
      row.tr.classList.toggle('has-stuck', rack.stuck > 0);
      row.tr.classList.toggle('is-complete', !!rack.complete);
      updateBar(row.bar, rack.progress, rack.complete ? 'done' : rack.stuck > 0 ? 'warn' : '');
      setText(row.n, rack.N);
      setText(row.r, rack.R);
      setText(row.s, rack.S);
      setText(row.stuck, rack.stuck > 0 ? rack.stuck : '–');
      row.stuck.classList.toggle('alert', rack.stuck > 0);
      updateHosts(row, rack.members || [], above);
      if (card.tbody.children[i] !== row.tr) {
        card.tbody.insertBefore(row.tr, card.tbody.children[i] || null);
      }
    });
  }

  function updateHosts(row, members, above) {
    const signature = JSON.stringify(members.map(m =>
        [m.peer, m.progress, m.representative, m.seeder, m.stuck, above.get(m.peer) || []]));
    if (signature === row.signature) return;
    row.signature = signature;

    let shown = members;
    if (members.length > MAX_CHIPS) {
      const must = members.filter(m => m.representative || m.stuck);
      const room = Math.max(0, MAX_CHIPS - must.length);
      const rest = members.filter(m => !m.representative && !m.stuck).slice(0, room);
      const keep = new Set(must.concat(rest));
      shown = members.filter(m => keep.has(m));
    }
    const parts = labelParts(members);
    const chips = shown.map(m => chip(m, above.get(m.peer) || [], parts));
    if (shown.length < members.length) {
      const more = el('span', 'peer more', '+' + (members.length - shown.length));
      more.title = (members.length - shown.length) + ' more hosts (GET transfers/<hash>.json?racks=1&peers=1 lists all)';
      chips.push(more);
    }
    row.hosts.replaceChildren(...chips);
  }

  // `places`: the groups above its rack it represents, outermost first.
  function chip(m, places, parts) {
    const classes = ['peer'];
    if (m.representative) classes.push('rep');
    if (places.length) classes.push('rep-up');
    if (m.seeder) classes.push('seeder');
    if (m.stuck) classes.push('stuck');
    const node = el('span', classes.join(' '));
    setData(node, {peer: m.peer, representative: !!m.representative, seeder: !!m.seeder,
                   stuck: !!m.stuck, progress: m.progress});
    node.append(el('span', 'peer-label', hostLabel(m.peer, parts)));
    if (!m.seeder) {
      const fill = el('span', 'peer-fill');
      fill.style.width = Math.max(0, Math.min(100, m.progress)) + '%';
      node.append(fill);
    }
    if (places.length) node.dataset.levels = places.map(p => p.level).join(' ');
    if (m.representative) {
      // The outermost level it represents: where its uplink traffic goes.
      const badge = el('b', 'rep-badge', places.length ? places[0].level : 'R');
      badge.dataset.rep = '';
      node.append(badge);
    }
    const what = [m.representative ? 'representative of its rack' : 'rack-local',
                  m.seeder ? 'seeder' : percent(m.progress) + ' done'];
    for (const p of places.slice().reverse()) what.splice(1, 0, 'of ' + p.level + ' ' + p.group);
    if (m.stuck) what.push('STUCK: no progress');
    const seen = parseTime(m.last_seen);
    if (seen) what.push('last announce ' + clock(seen));
    node.title = m.peer + ' · ' + what.join(' · ');
    return node;
  }

  // --- completed hosts over time -------------------------------------------

  function drawPlot(svg, g) {
    const W = 320, H = 130, L = 30, R = 10, T = 12, B = 22;
    const completions = (g.completions || []).map(s => new Date(s).getTime()).sort((a, b) => a - b);
    const start = parseTime(g.first_start) || parseTime(g.started);
    let t0 = start ? start.getTime() : trackerNow();
    if (completions.length && completions[0] < t0) t0 = completions[0];
    let t1 = g.complete && completions.length ? completions[completions.length - 1] : trackerNow();
    if (completions.length) t1 = Math.max(t1, completions[completions.length - 1]);
    if (t1 - t0 < 1000) t1 = t0 + 1000;
    const yMax = Math.max(1, g.peers, completions.length);
    const x = t => L + (W - L - R) * (t - t0) / (t1 - t0);
    const y = n => T + (H - T - B) * (1 - n / yMax);
    const f = v => v.toFixed(1);

    const nodes = [];
    // Frame: grid at 0, half and all hosts.
    for (const n of [0, yMax / 2, yMax]) {
      nodes.push(svgEl('line', {class: n === 0 ? 'axis' : 'grid', x1: L, x2: W - R, y1: f(y(n)), y2: f(y(n))}));
    }
    nodes.push(svgEl('text', {class: 'tick', x: L - 5, y: f(y(yMax) + 4), 'text-anchor': 'end'}, yMax));
    nodes.push(svgEl('text', {class: 'tick', x: L - 5, y: f(y(0) + 4), 'text-anchor': 'end'}, 0));
    nodes.push(svgEl('text', {class: 'tick', x: L, y: H - 6, 'text-anchor': 'start'}, clock(new Date(t0))));
    nodes.push(svgEl('text', {class: 'tick', x: W - R, y: H - 6, 'text-anchor': 'end'},
                     g.complete ? clock(new Date(t1)) : 'now'));

    if (completions.length) {
      let d = 'M' + f(x(t0)) + ' ' + f(y(0));
      completions.forEach((t, i) => {
        d += ' H' + f(x(t)) + ' V' + f(y(i + 1));
      });
      d += ' H' + f(x(t1));
      nodes.push(svgEl('path', {class: 'area', d: d + ' V' + f(y(0)) + ' Z'}));
      nodes.push(svgEl('path', {class: 'line', d: d}));
      if (completions.length <= 40) {
        completions.forEach((t, i) => {
          nodes.push(svgEl('circle', {class: 'point', cx: f(x(t)), cy: f(y(i + 1)), r: 2.2}));
        });
      }
    } else {
      nodes.push(svgEl('text', {class: 'plot-empty', x: f((L + W - R) / 2), y: f((T + H - B) / 2 + 4),
                                'text-anchor': 'middle'}, 'no completions yet'));
    }
    svg.replaceChildren(...nodes);
    svg.dataset.points = completions.length;
    svg.dataset.max = yMax;
    svg.setAttribute('aria-label', completions.length + ' of ' + g.peers + ' hosts completed');
  }

  // --- page ---------------------------------------------------------------

  function renderTransfers(list) {
    const main = document.getElementById('transfers');
    const seen = new Set(list.map(t => t.global.info_hash));
    for (const [hash, card] of cards) {
      if (!seen.has(hash)) {
        card.root.remove();
        cards.delete(hash);
      }
    }
    list.forEach((t, i) => {
      const hash = t.global.info_hash;
      let card = cards.get(hash);
      if (!card) {
        card = createCard(hash);
        cards.set(hash, card);
      }
      updateCard(card, t);
      if (main.children[i] !== card.root) main.insertBefore(card.root, main.children[i] || null);
    });

    const empty = document.getElementById('empty');
    empty.hidden = list.length > 0;
    document.getElementById('legend').hidden = list.length === 0;
    // Only where the tracker knows rows or datacenters.
    document.getElementById('legend-levels').hidden =
        !list.some(t => t.levels && Object.keys(t.levels).length > 0);
    setText(document.getElementById('empty-example'),
            'curl -F file=@app.torrent ' + new URL('torrents/app.torrent', location.href).href);

    const sum = (key) => list.reduce((acc, t) => acc + (t.global[key] || 0), 0);
    const summary = document.getElementById('summary');
    const stuck = sum('stuck');
    summary.replaceChildren(
        el('span', null, list.length + (list.length === 1 ? ' active transfer' : ' active transfers')),
        el('span', null, sum('peers') + ' peers'),
        el('span', null, sum('seeders') + ' seeders'),
        el('span', stuck ? 'alert' : null, stuck + ' stuck'));
    document.body.dataset.transfers = list.length;
  }

  function setStatus(ok, message) {
    const status = document.getElementById('status');
    const state = ok ? 'ok' : 'error';
    status.dataset.state = state;
    document.body.dataset.state = state;
    const text = document.getElementById('status-text');
    setText(text, message);
    text.title = message;
    document.getElementById('transfers').classList.toggle('stale', !ok);
  }

  async function poll() {
    try {
      const list = await load();
      renderTransfers(list);
      setStatus(true, 'live · updated ' + clock(new Date()));
    } catch (e) {
      setStatus(false, 'update failed: ' + e.message + ' · retrying every ' +
                (POLL_MS / 1000) + ' s');
    } finally {
      polls++;
      document.body.dataset.polls = polls;
      setTimeout(poll, POLL_MS);
    }
  }

  poll();
})();
