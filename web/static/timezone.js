// Sign-up: send the browser's time zone with the form, so that times show in the person's own.
for (const input of document.querySelectorAll("input[data-browser-timezone]")) {
  input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
}
