// Shared by every page: the larger-text preference and kiosk mode.
// Loaded in <head> without defer so the text size applies before first paint.
(function () {
  'use strict';
  var LARGE_KEY = 'yuelan.largeText';
  var KIOSK_KEY = 'yuelan.kiosk';
  var IDLE_KEY = 'yuelan.idleSeconds';
  var DEFAULT_IDLE_SECONDS = 120;
  var root = document.documentElement;

  function stored(storage, key) {
    try { return storage.getItem(key); } catch (e) { return null; }
  }
  function store(storage, key, value) {
    try { storage.setItem(key, value); } catch (e) { /* private mode: the preference lasts this page only */ }
  }

  function applyTextSize() {
    root.classList.toggle('large', stored(localStorage, LARGE_KEY) === '1');
  }
  applyTextSize();

  // Kiosk mode starts with /?kiosk=1 (and &idle=<seconds> for tests) and lasts
  // for the browser tab, so the reading view returns to the start screen too.
  var params = new URLSearchParams(location.search);
  if (params.get('kiosk') === '1') {
    store(sessionStorage, KIOSK_KEY, '1');
    var idle = parseInt(params.get('idle'), 10);
    store(sessionStorage, IDLE_KEY, idle > 0 ? String(idle) : String(DEFAULT_IDLE_SECONDS));
  }
  var kiosk = stored(sessionStorage, KIOSK_KEY) === '1';
  var idleSeconds = parseInt(stored(sessionStorage, IDLE_KEY), 10) || DEFAULT_IDLE_SECONDS;
  var startUrl = '/?kiosk=1' + (idleSeconds !== DEFAULT_IDLE_SECONDS ? '&idle=' + idleSeconds : '');

  function atStartScreen() {
    var input = document.getElementById('q');
    return location.pathname + location.search === startUrl && !(input && input.value);
  }

  function resetToStart() {
    if (atStartScreen()) {
      restartIdleTimer();
    } else {
      location.assign(startUrl);
    }
  }

  var timer = null;
  function restartIdleTimer() {
    clearTimeout(timer);
    timer = setTimeout(resetToStart, idleSeconds * 1000);
  }

  if (kiosk) {
    root.classList.add('kiosk');
    ['pointerdown', 'pointermove', 'keydown', 'touchstart', 'wheel', 'input'].forEach(function (type) {
      document.addEventListener(type, restartIdleTimer, { passive: true, capture: true });
    });
    restartIdleTimer();
  }

  document.addEventListener('DOMContentLoaded', function () {
    var button = document.getElementById('text-size');
    if (!button) return;
    function show() {
      var large = root.classList.contains('large');
      button.setAttribute('aria-pressed', large ? 'true' : 'false');
      button.textContent = large ? '正常字' : '大字';
      button.setAttribute('aria-label', large ? '恢复正常字号' : '放大字号');
    }
    button.hidden = false;
    show();
    button.addEventListener('click', function () {
      var large = root.classList.toggle('large');
      store(localStorage, LARGE_KEY, large ? '1' : '0');
      show();
    });
    // A page restored by Back (from the back-forward cache) may predate a
    // change made on another page.
    window.addEventListener('pageshow', function () {
      applyTextSize();
      show();
      if (kiosk) restartIdleTimer();
    });
  });
})();
