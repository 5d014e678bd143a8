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

  // Going back keeps the reader's filters and page, which a fresh link would lose.
  var back = document.getElementById('back');
  if (back && document.referrer.indexOf(location.origin + '/') === 0 && history.length > 1) {
    back.addEventListener('click', function (event) {
      event.preventDefault();
      history.back();
    });
  }
})();
