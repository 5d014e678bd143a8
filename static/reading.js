// The reading view's helpers: jump between highlighted matches, print, and
// return to the result list the reader came from. The page reads fine without it.
(function () {
  'use strict';
  var marks = document.querySelectorAll('#text mark');
  var next = document.getElementById('next-match');
  var status = document.getElementById('match-status');
  var current = -1;

  if (next && marks.length > 0) {
    next.hidden = false;
    next.addEventListener('click', function () {
      if (current >= 0) marks[current].classList.remove('current');
      current = (current + 1) % marks.length;
      var mark = marks[current];
      mark.classList.add('current');
      mark.scrollIntoView({ block: 'center', behavior: 'smooth' });
      if (status) status.textContent = '第 ' + (current + 1) + ' 处，共 ' + marks.length + ' 处';
      next.textContent = current + 1 < marks.length ? '下一处 ↓' : '回到第一处 ↑';
    });
  }

  var print = document.getElementById('print');
  if (print) {
    print.hidden = false;
    print.addEventListener('click', function () { window.print(); });
  }

  // 返回搜索 links to the list this document was opened from (its query,
  // filters, order and page travel in this page's address). When the
  // previous history entry is that list, going back to it keeps the
  // reader's scroll without adding an entry. In kiosk mode the link
  // replaces this entry instead (common.js), keeping history at one entry.
  var back = document.getElementById('back');
  if (back && !window.Yuelan.kiosk) {
    back.addEventListener('click', function (event) {
      var list = null;
      try { list = JSON.parse(sessionStorage.getItem('yuelan.list')); } catch (e) { /* no place kept */ }
      var cameFromList = list && list.opened === location.pathname && list.url === back.pathname + back.search;
      if (cameFromList && history.length > 1) {
        event.preventDefault();
        history.back();
      }
    });
  }
})();
