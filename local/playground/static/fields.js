// API errors shown where they belong: beside the field the error body's `param` names, else on the form.

export function clearErrors(form, formError) {
  for (const element of form.querySelectorAll(".field-error")) element.textContent = "";
  for (const element of form.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
  formError.textContent = "";
}

export function showError(form, formError, error) {
  const field = error.param ? form.querySelector(`.field-error[data-param="${CSS.escape(error.param)}"]`) : null;
  if (!field) {
    formError.textContent = error.hint ? `${error.message} ${error.hint}` : error.message;
    return;
  }
  field.textContent = error.message;
  const control = form.querySelector(`[aria-describedby~="${field.id}"]`);
  if (control) {
    control.setAttribute("aria-invalid", "true");
    control.focus();
  }
}
