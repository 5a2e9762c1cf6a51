// The line by a form's estimate that says, before the button is pressed, whether the work fits
// what the budgets covering it have left this month (the server's words: budgets_room). The
// server still refuses on submit what does not fit; this only says so first.
const data = document.getElementById("budget-room");
const budgets = data ? JSON.parse(data.textContent) : [];
const line = document.getElementById("budget-fit");

// Amounts as studio/core/formatting.py writes them (usd): "0.45 USD", "1,250.00 USD".
function usd(amount) {
  return `${amount.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} USD`;
}

// amount: the estimate in USD; what: "this take's estimate"; advice: "Choose 720P or a shorter
// part" (what would bring it down).
export function showBudgetFit(amount, { what, advice }) {
  if (!line || budgets.length === 0) return;
  // The budget with the least left decides: if the work fits it, it fits every one. Compared
  // in ten-thousandths of a dollar, as the server keeps them, rounding the estimate up.
  const tightest = budgets.reduce((a, b) => (Number(b.left) < Number(a.left) ? b : a));
  const left = Number(tightest.left);
  const fits = Math.ceil(amount * 10000 - 1e-6) <= Math.round(left * 10000);
  line.hidden = false;
  line.className = fits ? "budget-fit" : "budget-fit budget-fit-over";
  line.textContent = fits
    ? `Fits: ${tightest.name} has ${usd(left)} left this month.`
    : `Will not fit: ${tightest.name} has ${usd(left)} left this month, less than ${what}. ` +
      `${advice}, or ask ${tightest.raise_by} to raise it.`;
}
