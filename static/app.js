// The search page: search on Enter or the button (never while the input
// method is composing), suggestions, filter chips, paging, sorting, and the
// whole state in the URL so a result list can be shared and Back works.
(function () {
  'use strict';
  var FILTERS = [
    { key: 'category', label: '分类', max: 12 },
    { key: 'year', label: '年份', max: 12 },
    { key: 'publisher', label: '发布机构', max: 10 },
    { key: 'disclosure', label: '公开属性', max: 4 }
  ];
  var DISCLOSURE_NAMES = { public: '主动公开', on_request: '依申请公开' };
  var PAGE_SIZE = 10;
  var MAX_OFFSET = 10000;
  var SORTS = ['relevance', 'date_desc', 'date_asc'];
  // Where the reader left the list for a document: {url, y, opened}.
  var LIST_KEY = 'yuelan.list';
  var SUGGEST_DELAY_MS = 250;
  // Category buttons on the start screen without a reading point's own.
  var START_CATEGORIES = 8;

  var form = document.getElementById('search-form');
  var input = document.getElementById('q');
  var suggestions = document.getElementById('suggestions');
  var start = document.getElementById('start');
  var area = document.getElementById('results-area');
  var status = document.getElementById('status');
  var relaxed = document.getElementById('relaxed');
  var didYouMean = document.getElementById('did-you-mean');
  var didYouMeanLink = document.getElementById('did-you-mean-link');
  var filters = document.getElementById('filters');
  var filterPanel = document.getElementById('filter-panel');
  var filterSummary = document.getElementById('filter-summary');
  var message = document.getElementById('message');
  var results = document.getElementById('results');
  var pager = document.getElementById('pager');
  var sort = document.getElementById('sort');
  var activeFilters = document.getElementById('active-filters');
  var dateRange = document.getElementById('date-range');
  var fromInput = document.getElementById('from');
  var toInput = document.getElementById('to');

  var state = fromUrl();
  var searching = null;

  // ---- state <-> URL ----

  function emptyState() {
    return { q: '', category: [], year: [], publisher: [], disclosure: [], from: '', to: '', sort: 'relevance', offset: 0 };
  }

  function fromUrl() {
    var params = new URLSearchParams(location.search);
    var s = emptyState();
    s.q = params.get('q') || '';
    FILTERS.forEach(function (f) { s[f.key] = params.getAll(f.key).filter(Boolean); });
    s.from = params.get('from') || '';
    s.to = params.get('to') || '';
    // A stale or mistyped link searches as it can rather than failing:
    // an unknown order is relevance, a page beyond the deepest is the first.
    s.sort = SORTS.indexOf(params.get('sort')) >= 0 ? params.get('sort') : 'relevance';
    var offset = parseInt(params.get('offset'), 10) || 0;
    s.offset = offset > 0 && offset <= MAX_OFFSET ? offset - offset % PAGE_SIZE : 0;
    return s;
  }

  function toParams(s) {
    var params = new URLSearchParams();
    if (s.q) params.append('q', s.q);
    FILTERS.forEach(function (f) { s[f.key].forEach(function (v) { params.append(f.key, v); }); });
    if (s.from) params.append('from', s.from);
    if (s.to) params.append('to', s.to);
    if (s.sort !== 'relevance') params.append('sort', s.sort);
    if (s.offset) params.append('offset', String(s.offset));
    return params;
  }

  function hasFilters(s) {
    return FILTERS.some(function (f) { return s[f.key].length > 0; }) || Boolean(s.from || s.to);
  }

  function isActive(s) {
    return Boolean(s.q) || hasFilters(s);
  }

  // ---- searching ----

  function go(next, push) {
    state = next;
    var query = toParams(state).toString();
    var url = query ? '/?' + query : '/';
    if (url !== location.pathname + location.search) {
      // A terminal keeps one history entry: the next person cannot go Back
      // into this person's searches.
      if (push && !window.Yuelan.kiosk) history.pushState(null, '', url);
      else history.replaceState(null, '', url);
    }
    render();
  }

  function render() {
    input.value = state.q;
    clearButton.hidden = !state.q;
    sort.value = state.sort;
    fromInput.value = state.from;
    toInput.value = state.to;
    var active = isActive(state);
    start.hidden = active;
    area.hidden = !active;
    if (active) runSearch();
  }

  // The first list of a page the server has rendered comes with the page:
  // it is shown as it is, not searched (and logged) a second time.
  function initialResults() {
    var data = document.getElementById('initial-results');
    if (!data) return null;
    data.parentNode.removeChild(data);
    if (new URLSearchParams(data.dataset.list).toString() !== toParams(state).toString()) return null;
    try { return JSON.parse(data.textContent); } catch (e) { return null; }
  }

  function runSearch() {
    var initial = initialResults();
    if (initial) { showResults(initial); return; }
    if (searching) searching.abort();
    var controller = new AbortController();
    searching = controller;
    var params = toParams(state);
    params.set('limit', String(PAGE_SIZE));
    if (window.Yuelan.point) params.set('point', window.Yuelan.point);
    status.textContent = '正在搜索…';
    area.setAttribute('aria-busy', 'true');
    fetch('/api/search?' + params.toString(), { signal: controller.signal })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok) throw { status: response.status, body: body };
          return body;
        });
      })
      .then(function (body) { if (searching === controller) showResults(body); })
      .catch(function (error) { if (error.name !== 'AbortError' && searching === controller) showError(error); })
      .then(function () { if (searching === controller) area.removeAttribute('aria-busy'); });
  }

  function showResults(body) {
    if (body.hits.length === 0 && body.total > 0 && state.offset > 0) {
      // A page past the end (the archive changed since the link was made):
      // its first page instead.
      var first = copy(state);
      first.offset = 0;
      go(first, false);
      return;
    }
    var first = state.offset + 1;
    var last = state.offset + body.hits.length;
    status.textContent = body.total === 0
      ? '没有找到相关文件'
      : '找到 ' + body.total + ' 份文件' + (body.total > PAGE_SIZE ? '，这是第 ' + first + '–' + last + ' 份' : '');
    relaxed.hidden = !body.relaxed;
    didYouMean.hidden = !body.did_you_mean;
    didYouMeanLink.textContent = body.did_you_mean || '';
    didYouMeanLink.href = '/?q=' + encodeURIComponent(body.did_you_mean || '');
    renderFilters(body.facets || {});
    renderActiveFilters();
    clear(results);
    var partialShown = body.relaxed;
    var shared = sharedTitles(body.hits);
    body.hits.forEach(function (hit) {
      if (hit.partial && !partialShown) {
        results.appendChild(el('li', 'notice partial-divider', '以下文件只包含部分搜索词'));
        partialShown = true;
      }
      results.appendChild(resultItem(hit, shared));
    });
    if (body.total === 0) showNoResults(); else message.hidden = true;
    renderPager(body.total);
    restorePlace();
  }

  // Back from a document: the list scrolls to where the reader left it.
  function restorePlace() {
    var list = storedList();
    if (!list || list.url !== location.pathname + location.search) return;
    window.scrollTo(0, list.y);
  }

  function storedList() {
    try { return JSON.parse(sessionStorage.getItem(LIST_KEY)); } catch (e) { return null; }
  }

  function rememberPlace(link) {
    var list = { url: location.pathname + location.search, y: window.scrollY, opened: link.pathname };
    try { sessionStorage.setItem(LIST_KEY, JSON.stringify(list)); } catch (e) { /* the place is not kept */ }
  }

  // Titles that more than one hit of the page share.
  function sharedTitles(hits) {
    var seen = {};
    var shared = {};
    hits.forEach(function (hit) {
      if (seen[hit.title]) shared[hit.title] = true;
      seen[hit.title] = true;
    });
    return shared;
  }

  // What tells apart documents of the same title: year and publisher, or
  // else the file's name (as the server's list does).
  function distinction(hit) {
    var parts = [];
    if (hit.published_date) parts.push(hit.published_date.slice(0, 4) + '年');
    if (hit.publisher) parts.push(hit.publisher);
    if (parts.length) return parts.join(' · ');
    return hit.path.split('/').pop().replace(/\.[^.]*$/, '');
  }

  function resultItem(hit, shared) {
    var li = el('li', 'result');
    var link = el('a', 'result-title', hit.title || hit.path);
    if (shared[hit.title]) link.appendChild(el('span', 'title-extra', '（' + distinction(hit) + '）'));
    // The list's query, filters, order and page go along, for 返回搜索.
    var list = toParams(state).toString();
    link.href = '/documents/' + encodeURIComponent(hit.id) + (list ? '?' + list : '');
    link.addEventListener('click', function () { rememberPlace(link); });
    li.appendChild(link);
    li.appendChild(el('p', 'catalog-line', catalogLine(hit)));
    var badges = [];
    if (hit.disclosure === 'on_request') badges.push('依申请公开');
    if (hit.validity && hit.validity !== '有效') badges.push(hit.validity);
    badges.forEach(function (text) { li.appendChild(el('span', 'badge', text)); });
    if (hit.snippet) {
      var snippet = el('p', 'snippet');
      snippet.innerHTML = hit.snippet; // the server escapes snippets; <mark> is their only markup
      li.appendChild(snippet);
    }
    return li;
  }

  function catalogLine(hit) {
    return [hit.publisher, hit.doc_number, hit.published_date].filter(Boolean).join(' · ');
  }

  // Nothing found: one tap to something that finds documents. Without
  // the filters; each typed word alone; words of the archive that start
  // like the query (suggestions); the categories.
  function showNoResults() {
    clear(message);
    message.className = 'message';
    message.appendChild(el('h2', null, '可以试试：'));
    var ways = el('div', 'alternatives');
    message.appendChild(ways);
    if (hasFilters(state)) {
      ways.appendChild(alternative('去掉所有筛选条件', function () { go(withoutFilters(), true); }));
    }
    var words = state.q.split(/\s+/).filter(Boolean);
    if (words.length > 1) {
      words.forEach(function (word) {
        ways.appendChild(alternative('只搜“' + word + '”', function () { pick(word); }));
      });
    }
    var asked = state.q;
    if (asked) {
      fetch('/api/suggest?q=' + encodeURIComponent(asked))
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (body) {
          if (state.q !== asked) return;
          (body.suggestions || []).slice(0, 4).forEach(function (text) {
            if (text !== asked) ways.appendChild(alternative('搜“' + text + '”', function () { pick(text); }));
          });
        })
        .catch(function () { /* the other ways stay */ });
    }
    var browse = el('div', 'category-buttons');
    message.appendChild(el('h2', null, '或按类别查看：'));
    message.appendChild(browse);
    fillCategories(browse);
    message.hidden = false;
  }

  function alternative(text, action) {
    var button = el('button', 'button', text);
    button.type = 'button';
    button.addEventListener('click', action);
    return button;
  }

  // ---- categories: the start screen's one-tap browsing ----

  // The reading point's start categories, or the archive's largest.
  function startCategories() {
    return window.Yuelan.profile().then(function (profile) {
      if (profile && profile.categories && profile.categories.length) return profile.categories;
      return fetch('/api/stats')
        .then(function (response) { return response.ok ? response.json() : {}; })
        .then(function (stats) {
          var counts = stats.category || {};
          return Object.keys(counts)
            .sort(function (a, b) { return counts[b] - counts[a] || a.localeCompare(b); })
            .slice(0, START_CATEGORIES);
        });
    }).catch(function () { return []; });
  }

  // Fill `into` with category links; `section` shows when there are some.
  function fillCategories(into, section) {
    startCategories().then(function (categories) {
      clear(into);
      categories.forEach(function (category) {
        var link = el('a', 'category-button', category);
        link.href = '/?category=' + encodeURIComponent(category);
        link.addEventListener('click', function (event) {
          event.preventDefault();
          var next = emptyState();
          next.category = [category];
          go(next, true);
        });
        into.appendChild(link);
      });
      if (section) section.hidden = categories.length === 0;
    });
  }

  function showError(error) {
    var text;
    if (error.status === 503) text = '系统繁忙，请稍等片刻再试。';
    else if (error.status >= 400 && error.status < 500) text = '搜索条件有误，请修改后再试。';
    else text = '暂时无法完成搜索，请检查网络后再试。';
    status.textContent = '搜索没有完成';
    relaxed.hidden = true;
    didYouMean.hidden = true;
    clear(results);
    clear(pager);
    clear(message);
    message.className = 'message error';
    message.appendChild(el('p', null, text));
    var retry = el('button', 'button', '再试一次');
    retry.type = 'button';
    retry.addEventListener('click', runSearch);
    message.appendChild(retry);
    message.hidden = false;
  }

  // ---- filters, paging ----

  function renderFilters(facets) {
    clear(filters);
    var chosen = FILTERS.reduce(function (n, f) { return n + state[f.key].length; }, 0);
    filterSummary.textContent = chosen ? '筛选（已选 ' + chosen + ' 项）' : '筛选';
    FILTERS.forEach(function (f) {
      var counts = facets[f.key] || {};
      var values = Object.keys(counts).sort(f.key === 'year'
        ? function (a, b) { return b.localeCompare(a); }
        : function (a, b) { return counts[b] - counts[a] || a.localeCompare(b); });
      var shown = values.slice(0, f.max);
      state[f.key].forEach(function (v) { if (shown.indexOf(v) < 0) shown.push(v); });
      if (shown.length === 0) return;
      var group = el('div', 'filter-group');
      group.setAttribute('role', 'group');
      var heading = el('h2', null, f.label);
      heading.id = 'filter-' + f.key;
      group.setAttribute('aria-labelledby', heading.id);
      group.appendChild(heading);
      shown.forEach(function (value) {
        var name = f.key === 'disclosure' ? (DISCLOSURE_NAMES[value] || value) : value;
        var chip = el('button', 'chip');
        chip.type = 'button';
        chip.dataset.filter = f.key;
        chip.dataset.value = value;
        chip.setAttribute('aria-pressed', state[f.key].indexOf(value) >= 0 ? 'true' : 'false');
        // The visible text is the accessible name: “社会救助 4 份”.
        chip.appendChild(el('span', null, name));
        chip.appendChild(document.createTextNode(' '));
        chip.appendChild(el('span', 'count', (counts[value] || 0) + ' 份'));
        chip.addEventListener('click', function () { toggleFilter(f.key, value); });
        group.appendChild(chip);
      });
      filters.appendChild(group);
    });
  }

  // What narrows the list, each removable with one tap, and 清除全部筛选.
  function renderActiveFilters() {
    clear(activeFilters);
    activeFilters.hidden = !hasFilters(state);
    if (activeFilters.hidden) return;
    FILTERS.forEach(function (f) {
      state[f.key].forEach(function (value) {
        var name = f.key === 'disclosure' ? (DISCLOSURE_NAMES[value] || value) : value;
        activeFilters.appendChild(removable(f.label + '：' + name, function (next) {
          next[f.key].splice(next[f.key].indexOf(value), 1);
        }));
      });
    });
    if (state.from || state.to) {
      var range = (state.from || '最早') + ' 至 ' + (state.to || '今天');
      var chip = removable('发布日期：' + range, function (next) { next.from = ''; next.to = ''; });
      chip.id = 'date-chip';
      activeFilters.appendChild(chip);
    }
    var all = el('button', 'button', '清除全部筛选');
    all.type = 'button';
    all.id = 'clear-filters';
    all.addEventListener('click', function () { go(withoutFilters(), true); });
    activeFilters.appendChild(all);
  }

  function removable(text, change) {
    var chip = el('button', 'chip removable');
    chip.type = 'button';
    chip.appendChild(el('span', null, text));
    chip.appendChild(el('span', 'remove', '×'));
    chip.setAttribute('aria-label', '去掉筛选：' + text);
    chip.addEventListener('click', function () {
      var next = copy(state);
      change(next);
      next.offset = 0;
      go(next, true);
    });
    return chip;
  }

  function withoutFilters() {
    var next = emptyState();
    next.q = state.q;
    next.sort = state.sort;
    return next;
  }

  function toggleFilter(key, value) {
    var next = copy(state);
    var at = next[key].indexOf(value);
    if (at >= 0) next[key].splice(at, 1); else next[key].push(value);
    next.offset = 0;
    // On a phone the chosen filter shows as a chip above the results.
    foldFiltersOnPhone();
    go(next, true);
  }

  // On a phone the filters would push the results off the screen: they
  // stay folded behind the 筛选 button.
  function foldFiltersOnPhone() {
    if (window.matchMedia('(max-width: 59.99rem)').matches) filterPanel.open = false;
  }

  function renderPager(total) {
    clear(pager);
    var pages = Math.ceil(total / PAGE_SIZE);
    if (pages <= 1) return;
    var page = Math.floor(state.offset / PAGE_SIZE) + 1;
    pager.appendChild(pageButton('上一页', state.offset - PAGE_SIZE, page > 1));
    pager.appendChild(el('span', 'page-of', '第 ' + page + ' 页，共 ' + pages + ' 页'));
    pager.appendChild(pageButton('下一页', state.offset + PAGE_SIZE, page < pages && state.offset + PAGE_SIZE <= MAX_OFFSET));
  }

  function pageButton(text, offset, enabled) {
    var button = el('button', 'button', text);
    button.type = 'button';
    button.disabled = !enabled;
    button.addEventListener('click', function () {
      var next = copy(state);
      next.offset = offset;
      go(next, true);
      status.scrollIntoView({ block: 'start' });
      status.focus();
    });
    return button;
  }

  // ---- suggestions ----

  var suggestTimer = null;
  var suggestRequest = null;
  var activeSuggestion = -1;

  function scheduleSuggest() {
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(fetchSuggestions, SUGGEST_DELAY_MS);
  }

  function fetchSuggestions() {
    var q = input.value.trim();
    if (suggestRequest) suggestRequest.abort();
    if (!q) { hideSuggestions(); return; }
    suggestRequest = new AbortController();
    fetch('/api/suggest?q=' + encodeURIComponent(q), { signal: suggestRequest.signal })
      .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
      .then(function (body) {
        if (input.value.trim() === q && document.activeElement === input) showSuggestions(body);
      })
      .catch(function () { /* suggestions are a convenience: say nothing */ });
  }

  // A phrase searches; a title opens its document.
  function showSuggestions(body) {
    var list = body.suggestions || [];
    var opens = {};
    (body.documents || []).forEach(function (doc) { opens[doc.title] = doc.id; });
    clear(suggestions);
    activeSuggestion = -1;
    list.forEach(function (text, i) {
      var id = opens[text];
      var option = el('li', id ? 'suggestion title' : 'suggestion', text);
      option.id = 'suggestion-' + i;
      option.setAttribute('role', 'option');
      option.setAttribute('aria-selected', 'false');
      if (id) option.dataset.id = id;
      option.addEventListener('pointerdown', function (event) { event.preventDefault(); });
      option.addEventListener('click', function () { choose(option); });
      suggestions.appendChild(option);
    });
    suggestions.hidden = list.length === 0;
    input.setAttribute('aria-expanded', list.length ? 'true' : 'false');
  }

  function hideSuggestions() {
    clearTimeout(suggestTimer);
    if (suggestRequest) suggestRequest.abort();
    suggestions.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    activeSuggestion = -1;
  }

  function moveSuggestion(step) {
    var options = suggestions.querySelectorAll('[role=option]');
    if (suggestions.hidden || options.length === 0) return false;
    if (activeSuggestion >= 0) options[activeSuggestion].setAttribute('aria-selected', 'false');
    activeSuggestion = (activeSuggestion + step + options.length) % options.length;
    options[activeSuggestion].setAttribute('aria-selected', 'true');
    input.setAttribute('aria-activedescendant', options[activeSuggestion].id);
    return true;
  }

  function choose(option) {
    if (option.dataset.id) window.location.href = '/documents/' + encodeURIComponent(option.dataset.id);
    else pick(option.textContent);
  }

  function pick(text) {
    input.value = text;
    submit();
  }

  function submit() {
    hideSuggestions();
    var next = copy(state);
    next.q = input.value.trim();
    next.offset = 0;
    go(next, true);
  }

  // ---- helpers ----

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function copy(s) {
    return JSON.parse(JSON.stringify(s));
  }

  // ---- wiring ----

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    submit();
  });

  input.addEventListener('keydown', function (event) {
    // Enter that confirms an input-method candidate is not a search.
    if (event.isComposing || event.keyCode === 229) {
      if (event.key === 'Enter') event.preventDefault();
      return;
    }
    if (event.key === 'ArrowDown' && moveSuggestion(1)) event.preventDefault();
    else if (event.key === 'ArrowUp' && moveSuggestion(-1)) event.preventDefault();
    else if (event.key === 'Escape') hideSuggestions();
    else if (event.key === 'Enter' && activeSuggestion >= 0) {
      event.preventDefault();
      choose(suggestions.querySelectorAll('[role=option]')[activeSuggestion]);
    }
  });

  input.addEventListener('input', function (event) {
    clearButton.hidden = !input.value;
    if (!event.isComposing) scheduleSuggest();
  });
  // 清空 in place of the browser's small ×: a 48 px button with its name.
  var clearButton = document.getElementById('clear-q');
  clearButton.addEventListener('click', function () {
    input.value = '';
    clearButton.hidden = true;
    hideSuggestions();
    input.focus();
  });
  // The skip link lands on the first result (the search box before a search).
  document.getElementById('skip').addEventListener('click', function (event) {
    var first = area.hidden ? input : results.querySelector('.result-title');
    if (!first) return;
    event.preventDefault();
    first.focus();
  });
  input.addEventListener('compositionend', scheduleSuggest);
  input.addEventListener('blur', function () { setTimeout(hideSuggestions, 150); });

  dateRange.addEventListener('submit', function (event) {
    event.preventDefault();
    var next = copy(state);
    next.from = fromInput.value;
    next.to = toInput.value;
    next.offset = 0;
    go(next, true);
  });

  sort.addEventListener('change', function () {
    var next = copy(state);
    next.sort = sort.value;
    next.offset = 0;
    go(next, true);
  });

  // Examples and the correction are links (they work without JavaScript);
  // here they search in place.
  document.querySelectorAll('.examples [data-q]').forEach(function (link) {
    link.addEventListener('click', function (event) { event.preventDefault(); pick(link.dataset.q); });
  });
  didYouMeanLink.addEventListener('click', function (event) { event.preventDefault(); pick(didYouMeanLink.textContent); });
  document.getElementById('sort-form').addEventListener('submit', function (event) { event.preventDefault(); });

  window.addEventListener('popstate', function () {
    state = fromUrl();
    hideSuggestions();
    render();
  });

  foldFiltersOnPhone();
  status.tabIndex = -1;
  history.scrollRestoration = 'manual';
  fillCategories(document.getElementById('category-buttons'), document.getElementById('categories'));
  render();
})();
