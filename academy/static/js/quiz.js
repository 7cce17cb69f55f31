/* Quiz attempts: autosave and a countdown. The page works without this file: "Guardar
   respuestas" and "Entregar" post the whole form, and the server enforces the time limit.

   Autosave: each change marks its question; after a short pause the changed questions are
   posted to the autosave endpoint (the same field names as the form), and the answer is shown
   in the status line, which screen readers announce. A question the server refuses shows its
   message and is not sent again until it changes; the others are sent again at once.

   Countdown: the seconds left come from the server when the page loads. Screen readers hear
   a warning at 5 minutes and at 1 minute; at zero the form is sent as it is, and the server
   grades the attempt. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-autosave-url]");
  if (!form || !window.fetch || !window.URLSearchParams) {
    return;
  }
  var url = form.getAttribute("data-autosave-url");
  var token = form.getAttribute("data-csrf-token") || "";
  var savingText = form.getAttribute("data-saving") || "";
  var failedText = form.getAttribute("data-failed") || "";
  var status = document.getElementById("quiz-status");
  var DELAY_MS = 700;
  var RETRY_MS = 15000;
  var dirty = {}; // question key -> change counter
  var timer = null;
  var sending = false;
  var finished = false;

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function questionOf(element) {
    return element.closest ? element.closest("fieldset[data-question]") : null;
  }

  function fieldsetFor(key) {
    var sets = form.querySelectorAll("fieldset[data-question]");
    for (var i = 0; i < sets.length; i += 1) {
      if (sets[i].getAttribute("data-question") === key) {
        return sets[i];
      }
    }
    return null;
  }

  function showError(fieldset, message) {
    var box = fieldset.querySelector("[data-question-error]");
    if (box) {
      box.textContent = message || "";
    }
    fieldset.classList.toggle("question-error", Boolean(message));
  }

  // An ordering question half numbered is not an answer yet: wait until every item has a
  // position, or none has.
  function ready(fieldset) {
    if (fieldset.getAttribute("data-type") !== "ordenar") {
      return true;
    }
    var selects = fieldset.querySelectorAll("select");
    var filled = 0;
    for (var i = 0; i < selects.length; i += 1) {
      if (selects[i].value) {
        filled += 1;
      }
    }
    return filled === 0 || filled === selects.length;
  }

  function fieldsOf(fieldset, data) {
    var elements = fieldset.querySelectorAll("input, select");
    for (var i = 0; i < elements.length; i += 1) {
      var element = elements[i];
      if (!element.name || element.disabled) {
        continue;
      }
      if ((element.type === "radio" || element.type === "checkbox") && !element.checked) {
        continue;
      }
      data.append(element.name, element.value);
    }
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(send, delay);
  }

  function send() {
    if (sending || finished) {
      return;
    }
    var data = new URLSearchParams();
    data.append("csrf_token", token);
    var sent = {};
    var count = 0;
    Object.keys(dirty).forEach(function (key) {
      var fieldset = fieldsetFor(key);
      if (!fieldset) {
        delete dirty[key];
        return;
      }
      if (!ready(fieldset)) {
        return;
      }
      fieldsOf(fieldset, data); // includes the hidden "shown" field
      sent[key] = dirty[key];
      count += 1;
    });
    if (!count) {
      return;
    }
    sending = true;
    say(savingText);
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "X-CSRFToken": token
      },
      body: data.toString()
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) {
          throw new Error("autosave answered " + response.status);
        }
        return response.json().then(function (body) {
          return { status: response.status, body: body };
        });
      })
      .then(function (result) {
        sending = false;
        var body = result.body || {};
        if (result.status === 409) {
          finished = true;
          say((body.error && body.error.message) || "");
          var target = body.error && body.error.redirect;
          if (target) {
            window.setTimeout(function () { window.location.assign(target); }, 1500);
          }
          return;
        }
        var errors = (result.status === 422 && body.error && body.error.errors) || {};
        Object.keys(sent).forEach(function (key) {
          var fieldset = fieldsetFor(key);
          if (errors[key]) {
            if (fieldset) {
              showError(fieldset, errors[key]);
            }
            if (dirty[key] === sent[key]) {
              delete dirty[key]; // sent again when it changes
            }
          } else if (result.status === 200) {
            if (fieldset) {
              showError(fieldset, "");
            }
            if (dirty[key] === sent[key]) {
              delete dirty[key];
            }
          }
        });
        if (result.status === 200) {
          say(body.message || "");
        } else if (result.status === 422) {
          say((body.error && body.error.message) || failedText);
        } else {
          throw new Error("autosave answered " + result.status);
        }
        if (Object.keys(dirty).length) {
          schedule(result.status === 422 ? 0 : DELAY_MS);
        }
      })
      .catch(function () {
        sending = false;
        say(failedText);
        schedule(RETRY_MS);
      });
  }

  function changed(event) {
    var fieldset = questionOf(event.target);
    if (!fieldset || finished) {
      return;
    }
    var key = fieldset.getAttribute("data-question");
    dirty[key] = (dirty[key] || 0) + 1;
    schedule(DELAY_MS);
  }

  form.addEventListener("change", changed);
  form.addEventListener("input", changed);
  form.addEventListener("submit", function () {
    finished = true;
    window.clearTimeout(timer);
  });

  // The countdown ---------------------------------------------------------------------------
  var clock = document.getElementById("quiz-timer");
  if (!clock) {
    return;
  }
  var secondsLeft = parseInt(clock.getAttribute("data-seconds-left"), 10);
  if (isNaN(secondsLeft)) {
    return;
  }
  var endAt = Date.now() + secondsLeft * 1000;
  var display = clock.querySelector("[data-countdown]");
  var box = clock.querySelector("[data-countdown-box]");
  var announce = document.getElementById("quiz-announce");
  var warnings = [
    { at: 300, text: clock.getAttribute("data-warn-5"), done: secondsLeft <= 300 },
    { at: 60, text: clock.getAttribute("data-warn-1"), done: secondsLeft <= 60 }
  ];
  if (box) {
    box.hidden = false;
  }

  function two(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function show(seconds) {
    if (!display) {
      return;
    }
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = seconds % 60;
    display.textContent = (hours ? hours + ":" + two(minutes) : String(minutes)) + ":" + two(rest);
  }

  function timeUp() {
    finished = true;
    window.clearTimeout(timer);
    if (announce) {
      announce.textContent = clock.getAttribute("data-time-up") || "";
    }
    var action = document.createElement("input");
    action.type = "hidden";
    action.name = "action";
    action.value = "timeout";
    form.appendChild(action);
    form.submit();
  }

  function tick() {
    var seconds = Math.max(0, Math.ceil((endAt - Date.now()) / 1000));
    show(seconds);
    warnings.forEach(function (warning) {
      if (!warning.done && seconds <= warning.at) {
        warning.done = true;
        if (announce && warning.text) {
          announce.textContent = warning.text;
        }
      }
    });
    if (seconds <= 0) {
      timeUp();
      return;
    }
    window.setTimeout(tick, 1000 - ((endAt - Date.now()) % 1000 || 0));
  }

  tick();
})();
