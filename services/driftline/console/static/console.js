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
