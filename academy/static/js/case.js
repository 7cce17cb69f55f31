/* Case exercises. The pages work without this file: "Guardar borrador" posts the form, and the
   server adds up the rubric. Here:
   - the learner's answers are saved as a draft after a pause in typing (a JSON POST with the
     CSRF token in X-CSRFToken), the result is announced in a polite live region, and each
     answer shows its word count as it is typed (counted as the server counts);
   - the trainer's rubric shows the points of the chosen levels as they are picked. */
(function () {
  "use strict";

  // The server's rule (academy/cases/services.py, WORD_RE): letters, digits or "_", joined
  // by "-", "'" or "’".
  var WORD = /[\p{L}\p{N}_]+(?:[-'’][\p{L}\p{N}_]+)*/gu;

  function countWords(text) {
    var found = text.normalize ? text.normalize("NFC").match(WORD) : text.match(WORD);
    return found ? found.length : 0;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function setupAnswers(form) {
    var areas = Array.prototype.slice.call(form.querySelectorAll("textarea[data-prompt]"));
    var status = document.getElementById("case-save-status");
    var url = form.getAttribute("data-autosave-url");
    var token = form.getAttribute("data-csrf-token") || "";
    var text = {
      one: form.getAttribute("data-word-one") || "{n}",
      other: form.getAttribute("data-word-other") || "{n}",
      tooMany: form.getAttribute("data-too-many") || "",
      tooFew: form.getAttribute("data-too-few") || "",
      saving: form.getAttribute("data-saving") || "",
      failed: form.getAttribute("data-failed") || ""
    };
    var DELAY_MS = 1500;
    var timer = null;
    var inFlight = false;
    var again = false;
    var stopped = false;
    var lastSaved = JSON.stringify(collect());

    function collect() {
      var responses = {};
      areas.forEach(function (area) {
        responses[area.getAttribute("data-prompt")] = area.value;
      });
      return responses;
    }

    function errorBox(area) {
      return document.getElementById(area.id + "-error");
    }

    function showProblem(area, message) {
      var box = errorBox(area);
      if (box) {
        box.textContent = message || "";
      }
      if (message) {
        area.setAttribute("aria-invalid", "true");
      } else {
        area.removeAttribute("aria-invalid");
      }
      var field = area.closest(".field");
      if (field) {
        field.classList.toggle("field-error", Boolean(message));
      }
    }

    function updateCount(area) {
      var counter = document.getElementById(area.id + "-contador");
      if (!counter) {
        return;
      }
      var n = countWords(area.value);
      var max = parseInt(area.getAttribute("data-max-words"), 10);
      var min = parseInt(area.getAttribute("data-min-words"), 10);
      var label = fill(n === 1 ? text.one : text.other, { n: n });
      if (n > max) {
        label += " · " + fill(text.tooMany, { max: max });
      } else if (n > 0 && n < min) {
        label += " · " + fill(text.tooFew, { n: min - n });
      }
      counter.textContent = label;
      counter.classList.toggle("word-count-over", n > max);
    }

    function announce(message) {
      if (status && message) {
        status.textContent = message;
      }
    }

    function save(keepalive) {
      if (stopped) {
        return;
      }
      var responses = collect();
      var body = JSON.stringify(responses);
      if (body === lastSaved) {
        return;
      }
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      announce(text.saving);
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        keepalive: Boolean(keepalive),
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "X-CSRFToken": token
        },
        body: JSON.stringify({ responses: responses })
      })
        .then(function (response) {
          return response.json().then(function (data) {
            return { status: response.status, data: data };
          });
        })
        .then(function (result) {
          var data = result.data || {};
          var problems = data.problems || {};
          areas.forEach(function (area) {
            showProblem(area, problems[area.getAttribute("data-prompt")]);
          });
          if (data.saved) {
            lastSaved = body;
          } else if (result.status === 409) {
            stopped = true; // handed in or approved elsewhere: nothing more to save here
          }
          announce(data.message || (data.error && data.error.message) || text.failed);
        })
        .catch(function () {
          announce(text.failed);
        })
        .then(function () {
          inFlight = false;
          if (again) {
            again = false;
            schedule();
          }
        });
    }

    function schedule() {
      if (timer) {
        window.clearTimeout(timer);
      }
      timer = window.setTimeout(function () {
        timer = null;
        save(false);
      }, DELAY_MS);
    }

    areas.forEach(function (area) {
      updateCount(area);
      area.addEventListener("input", function () {
        updateCount(area);
        schedule();
      });
    });

    // Leaving the page or the tab: save what is pending now rather than lose it.
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && timer) {
        window.clearTimeout(timer);
        timer = null;
        save(true);
      }
    });

    // The buttons post the same text; a save still waiting would only race them.
    form.addEventListener("submit", function () {
      stopped = true;
      if (timer) {
        window.clearTimeout(timer);
        timer = null;
      }
    });
  }

  function setupRubric(form) {
    var output = document.getElementById("rubric-points");
    if (!output) {
      return;
    }
    function total() {
      var sum = 0;
      form.querySelectorAll("input[type='radio'][data-points]:checked").forEach(function (radio) {
        sum += parseInt(radio.getAttribute("data-points"), 10) || 0;
      });
      output.textContent = String(sum);
    }
    form.addEventListener("change", total);
    total();
  }

  var answers = document.querySelector("form[data-autosave-url]");
  if (answers && window.fetch && window.JSON) {
    setupAnswers(answers);
  }
  var rubric = document.getElementById("rubric-form");
  if (rubric) {
    setupRubric(rubric);
  }
})();
