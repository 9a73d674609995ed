// The CTCAE v5 picker of the adverse-event forms (templates/safety/_ctcae_picker.html): a click
// on a search result (the htmx partial safety/_ctcae_pick.html) fills the form's term field and
// its hidden MedDRA code and shows the term's code, SOC and grades. A name typed by hand drops
// the code (the case service then finds the term by its name). Enter in the search box searches
// instead of submitting the form.
(() => {
  const pickerOf = (element) => element.closest(".ctcae-picker");
  const byId = (id) => (id ? document.getElementById(id) : null);

  document.addEventListener("click", (event) => {
    const option = event.target.closest(".ctcae-option");
    const picker = option && pickerOf(option);
    if (!picker) return;
    event.preventDefault();
    const { term, code, soc, grades } = option.dataset;
    const termInput = byId(picker.dataset.termInput);
    const codeInput = byId(picker.dataset.codeInput);
    const chosen = byId(picker.dataset.chosen);
    if (termInput) termInput.value = term;
    if (codeInput) codeInput.value = code;
    if (chosen) chosen.textContent = `${term} — MedDRA ${code} · ${soc} · grades ${grades}`;
    const options = picker.querySelector(".ctcae-options");
    if (options) options.replaceChildren();
  });

  document.addEventListener("input", (event) => {
    const picker = pickerOf(event.target);
    if (!picker || event.target.id !== picker.dataset.termInput) return;
    const codeInput = byId(picker.dataset.codeInput);
    const chosen = byId(picker.dataset.chosen);
    if (codeInput) codeInput.value = "";
    if (chosen) chosen.textContent = "";
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches(".ctcae-picker input[type=search]")) {
      event.preventDefault();
    }
  });
})();
