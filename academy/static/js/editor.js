/* Live preview for the lesson editor. The page works without this file: the "Vista previa"
   button renders the same preview on the server. Here, a pause in typing sends the text to the
   preview endpoint and shows the sanitised HTML and the problems it returns. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-preview-url]");
  if (!form || !window.fetch || !window.JSON) {
    return;
  }
  var textarea = form.querySelector("textarea[name='body']");
  var preview = document.getElementById("editor-preview");
  var problemsBox = document.getElementById("editor-body-problems");
  if (!textarea || !preview || !problemsBox) {
    return;
  }
  var url = form.getAttribute("data-preview-url");
  var token = form.getAttribute("data-csrf-token") || "";
  var failedMessage = form.getAttribute("data-preview-failed") || "";
  var problemsTitle = problemsBox.querySelector("p.error");
  var problemsHeading = problemsTitle ? problemsTitle.textContent : "";
  var field = textarea.closest(".field");
  var DELAY_MS = 500;
  var timer = null;
  var controller = null;
  var lastSent = null;

  function showProblems(problems) {
    while (problemsBox.firstChild) {
      problemsBox.removeChild(problemsBox.firstChild);
    }
    var failing = problems.length > 0;
    textarea.setAttribute("aria-invalid", failing ? "true" : "false");
    if (field) {
      field.classList.toggle("field-error", failing);
    }
    if (!failing) {
      return;
    }
    if (problemsHeading) {
      var title = document.createElement("p");
      title.className = "error";
      title.textContent = problemsHeading;
      problemsBox.appendChild(title);
    }
    var list = document.createElement("ul");
    problems.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      list.appendChild(item);
    });
    problemsBox.appendChild(list);
  }

  function showFailure() {
    var note = document.createElement("p");
    note.className = "error";
    note.textContent = failedMessage;
    preview.replaceChildren(note);
  }

  function refresh() {
    var text = textarea.value;
    if (text === lastSent) {
      return;
    }
    lastSent = text;
    if (controller) {
      controller.abort();
    }
    controller = window.AbortController ? new AbortController() : null;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": token
      },
      body: JSON.stringify({ body: text }),
      signal: controller ? controller.signal : undefined
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) {
          throw new Error("preview answered " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        // The server sanitised this HTML with the same allow-list as saved lessons.
        preview.innerHTML = data.html || "";
        showProblems(data.problems || []);
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") {
          return;
        }
        lastSent = null;
        showFailure();
      });
  }

  textarea.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, DELAY_MS);
  });

  // Leaving the page: a preview still on its way is of no use any more.
  form.addEventListener("submit", function () {
    window.clearTimeout(timer);
    if (controller) {
      controller.abort();
    }
  });
})();
