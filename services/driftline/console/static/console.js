// Sign-in: send the token once as Authorization: Bearer; the console answers with an HttpOnly cookie.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("signin");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = document.getElementById("token").value.trim();
    const error = document.getElementById("signin-error");
    const answer = await fetch("/session", {
      headers: { Authorization: "Bearer " + token }, credentials: "same-origin",
    });
    if (answer.ok) {
      window.location.assign(form.dataset.next || "/");
    } else {
      error.textContent = answer.status === 401 ? "Unknown token." : "Sign-in failed (" + answer.status + ").";
    }
  });
});

// Approve / reject: a write, so the approver's own token goes in the header (the cookie is not
// sent as one); the console passes it to the registry, which checks the role.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.classList || !form.classList.contains("decide")) return;
  event.preventDefault();
  const decision = event.submitter ? event.submitter.value : "approve";
  const result = form.querySelector(".decide-result");
  const answer = await fetch(form.dataset.action + decision, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      Authorization: "Bearer " + form.elements.token.value.trim(),
      "Content-Type": "application/json",
    },
    body: JSON.stringify({ comment: form.elements.comment.value || null }),
  });
  const body = await answer.json().catch(() => ({}));
  result.textContent = answer.ok ? decision + "d" : "refused (" + answer.status + "): " + (body.detail || "");
  if (answer.ok) setTimeout(() => window.location.reload(), 1500);
});

// Override, promote, roll back: the same rule as approve (the caller's own token in the header);
// the form's other fields go as the JSON body, the answer's detail is shown beside the button.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.classList || !form.classList.contains("action")) return;
  event.preventDefault();
  const body = {};
  for (const input of form.querySelectorAll("input")) {
    if (input.name === "token") continue;
    body[input.name] = input.dataset.int ? parseInt(input.value, 10) : input.value;
  }
  const result = form.querySelector(".action-result");
  result.textContent = "sending…";
  let answer;
  try {
    answer = await fetch(form.dataset.action, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Authorization: "Bearer " + form.elements.token.value.trim(),
        "Content-Type": "application/json",
      },
      body: JSON.stringify(body),
    });
  } catch (error) {
    result.textContent = "not sent: " + error;
    return;
  }
  const answered = await answer.json().catch(() => ({}));
  const detail = typeof answered.detail === "string" ? answered.detail : JSON.stringify(answered.detail || "");
  result.textContent = answer.ok ? "done: " + form.dataset.done : "refused (" + answer.status + "): " + detail;
  result.classList.toggle("error", !answer.ok);
  if (answer.ok) setTimeout(() => window.location.reload(), 1500);
});
