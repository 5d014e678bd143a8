// Shared by every page: the text-size preference and kiosk mode.
// Loaded in <head> without defer so the text size applies before first paint.
//
// Kiosk mode (/?kiosk=1, and &idle=<seconds> for tests) lasts for the
// browser tab. In it every person starts alike and leaves nothing behind:
// navigation replaces the current history entry instead of adding one, the
// text size and the reader's place are kept for this person only, and an
// idle terminal first asks 还要继续阅读吗？ and then returns to its start
// screen, forgetting all of it.
(function () {
  'use strict';
  var SIZE_KEY = 'yuelan.textSize';
  var KIOSK_KEY = 'yuelan.kiosk';
  var IDLE_KEY = 'yuelan.idleSeconds';
  var POINT_KEY = 'yuelan.point';
  var PROFILE_KEY = 'yuelan.profile';
  var PERSON_KEYS = [SIZE_KEY, 'yuelan.list'];
  var DEFAULT_IDLE_SECONDS = 120;
  // Text sizes, one step at a time; the terminal starts one step up.
  var SIZES = ['normal', 'large', 'larger'];
  var SIZE_NAMES = { normal: '正常字', large: '大字', larger: '特大字' };
  // A reader of a document gets this many times the idle limit.
  var READING_FACTOR = 3;
  // The notice comes this long before the reset (WCAG 2.2.1: 20 s), or
  // half the limit when the limit is shorter (tests).
  var WARN_SECONDS = 20;
  var root = document.documentElement;

  function stored(storage, key) {
    try { return storage.getItem(key); } catch (e) { return null; }
  }
  function store(storage, key, value) {
    try { storage.setItem(key, value); } catch (e) { /* private mode: the preference lasts this page only */ }
  }
  function forget(storage, key) {
    try { storage.removeItem(key); } catch (e) { /* nothing kept, nothing to forget */ }
  }

  var params = new URLSearchParams(location.search);
  if (params.get('kiosk') === '1') {
    store(sessionStorage, KIOSK_KEY, '1');
    var idle = parseInt(params.get('idle'), 10);
    store(sessionStorage, IDLE_KEY, idle > 0 ? String(idle) : String(DEFAULT_IDLE_SECONDS));
    // The reading point this terminal stands in (see search-server/src/points.rs).
    var tag = params.get('point') || '';
    if (/^[a-z0-9_-]{1,32}$/.test(tag)) store(sessionStorage, POINT_KEY, tag); else forget(sessionStorage, POINT_KEY);
    forget(sessionStorage, PROFILE_KEY);
  }
  var kiosk = stored(sessionStorage, KIOSK_KEY) === '1';
  var idleSeconds = parseInt(stored(sessionStorage, IDLE_KEY), 10) || DEFAULT_IDLE_SECONDS;
  var point = kiosk ? stored(sessionStorage, POINT_KEY) : null;
  var startUrl = '/?kiosk=1' + (idleSeconds !== DEFAULT_IDLE_SECONDS ? '&idle=' + idleSeconds : '') +
    (point ? '&point=' + point : '');
  // A person's settings: for the tab in kiosk mode (the reset forgets
  // them), for the browser elsewhere.
  var personal = kiosk ? sessionStorage : localStorage;

  function textSize() {
    var size = stored(personal, SIZE_KEY);
    if (SIZES.indexOf(size) >= 0) return size;
    return kiosk ? 'large' : 'normal';
  }
  function applyTextSize() {
    var size = textSize();
    root.classList.toggle('large', size === 'large');
    root.classList.toggle('larger', size === 'larger');
  }
  applyTextSize();

  // ---- the idle reset ----

  var reading = location.pathname.indexOf('/documents/') === 0;
  var limit = idleSeconds * (reading ? READING_FACTOR : 1);
  var warnAhead = Math.min(WARN_SECONDS, limit / 2);
  var warnTimer = null;
  var resetTimer = null;
  var notice = null;

  function atStartScreen() {
    var input = document.getElementById('q');
    return location.pathname + location.search === startUrl && !(input && input.value);
  }

  function resetToStart() {
    PERSON_KEYS.forEach(function (key) { forget(sessionStorage, key); });
    if (atStartScreen()) {
      applyTextSize();
      showTextSize();
      hideNotice();
      restartIdleTimer();
    } else {
      location.replace(startUrl);
    }
  }

  function restartIdleTimer() {
    clearTimeout(warnTimer);
    clearTimeout(resetTimer);
    warnTimer = setTimeout(showNotice, (limit - warnAhead) * 1000);
    resetTimer = setTimeout(resetToStart, limit * 1000);
  }

  function showNotice() {
    if (atStartScreen()) return;
    if (!notice) notice = buildNotice();
    var seconds = Math.round(warnAhead);
    notice.querySelector('.idle-seconds').textContent = String(seconds);
    notice.hidden = false;
    notice.querySelector('button').focus();
  }

  function hideNotice() {
    if (notice) notice.hidden = true;
  }

  function buildNotice() {
    var box = document.createElement('div');
    box.className = 'idle-notice';
    box.id = 'idle-notice';
    box.setAttribute('role', 'alertdialog');
    box.setAttribute('aria-modal', 'true');
    box.setAttribute('aria-labelledby', 'idle-title');
    box.setAttribute('aria-describedby', 'idle-text');
    var panel = document.createElement('div');
    panel.className = 'idle-panel';
    var title = document.createElement('h2');
    title.id = 'idle-title';
    title.textContent = '还要继续阅读吗？';
    var text = document.createElement('p');
    text.id = 'idle-text';
    text.appendChild(document.createTextNode('没有人操作时，约 '));
    var count = document.createElement('span');
    count.className = 'idle-seconds';
    text.appendChild(count);
    text.appendChild(document.createTextNode(' 秒后回到首页，并清除刚才的搜索和阅读记录。'));
    var button = document.createElement('button');
    button.type = 'button';
    button.id = 'idle-continue';
    button.className = 'button primary';
    button.textContent = '继续';
    button.addEventListener('click', function () { hideNotice(); restartIdleTimer(); });
    panel.appendChild(title);
    panel.appendChild(text);
    panel.appendChild(button);
    box.appendChild(panel);
    document.body.appendChild(box);
    return box;
  }

  if (kiosk) {
    root.classList.add('kiosk');
    ['pointerdown', 'keydown', 'touchstart', 'wheel', 'input'].forEach(function (type) {
      document.addEventListener(type, function () { if (!notice || notice.hidden) restartIdleTimer(); },
        { passive: true, capture: true });
    });
    // Links within the site replace the current entry: Back cannot reach
    // what the previous person read.
    document.addEventListener('click', function (event) {
      var link = event.target.closest && event.target.closest('a[href]');
      if (!link || event.defaultPrevented || link.origin !== location.origin || link.target) return;
      event.preventDefault();
      location.replace(link.href);
    });
    restartIdleTimer();
  }

  // ---- the reading point's profile ----

  // The point's name and start categories, fetched once per tab; null
  // without a point or when the server does not know it.
  var profile = null;
  function pointProfile() {
    if (!point) return Promise.resolve(null);
    if (!profile) {
      var kept = stored(sessionStorage, PROFILE_KEY);
      profile = kept
        ? Promise.resolve(JSON.parse(kept))
        : fetch('/api/points/' + encodeURIComponent(point))
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (body) { if (body) store(sessionStorage, PROFILE_KEY, JSON.stringify(body)); return body; })
          .catch(function () { return null; });
    }
    return profile;
  }

  function showPointName() {
    var name = document.getElementById('point-name');
    if (!name) return;
    pointProfile().then(function (body) {
      if (!body) return;
      name.textContent = body.name;
      name.hidden = false;
    });
  }

  // ---- the text-size button ----

  var button = null;
  function showTextSize() {
    if (!button) return;
    var size = textSize();
    var next = SIZES[(SIZES.indexOf(size) + 1) % SIZES.length];
    // The visible text names what a tap gives; the accessible name starts with it.
    button.textContent = SIZE_NAMES[next];
    button.setAttribute('aria-label', SIZE_NAMES[next] + '（现在是' + SIZE_NAMES[size] + '）');
    button.dataset.size = size;
  }

  document.addEventListener('DOMContentLoaded', function () {
    showPointName();
    button = document.getElementById('text-size');
    if (!button) return;
    button.hidden = false;
    showTextSize();
    button.addEventListener('click', function () {
      var next = SIZES[(SIZES.indexOf(textSize()) + 1) % SIZES.length];
      store(personal, SIZE_KEY, next);
      applyTextSize();
      showTextSize();
    });
    // A page restored by Back (from the back-forward cache) may predate a
    // change made on another page.
    window.addEventListener('pageshow', function () {
      applyTextSize();
      showTextSize();
      if (kiosk) restartIdleTimer();
    });
  });

  // What the page scripts share: kiosk mode, the reading point and its profile.
  window.Yuelan = { kiosk: kiosk, point: point, profile: pointProfile };
})();
