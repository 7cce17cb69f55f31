// The certificate batch's progress page: asks for the batch's state every two seconds and
// updates the bar and the counts; once done, reloads to show the final page (errors, if any).
// Without this script the page's "Actualizar" link does the same by hand.
(function () {
  "use strict";
  var section = document.getElementById("batch");
  if (!section || !window.fetch) return;
  var url = section.getAttribute("data-status-url");
  var bar = document.getElementById("batch-progress");
  var state = document.getElementById("batch-state");

  function show(data) {
    bar.max = data.total;
    bar.value = data.position;
    bar.textContent = data.percent + " %";
    ["position", "total", "issued", "skipped", "failed"].forEach(function (name) {
      var cell = section.querySelector('[data-count="' + name + '"]');
      if (cell) cell.textContent = String(data[name]);
    });
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.done) {
          state.textContent = state.getAttribute("data-done-text");
          window.location.reload();
        } else {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 10000); // the link still works meanwhile
      });
  }

  window.setTimeout(poll, 1000);
})();
