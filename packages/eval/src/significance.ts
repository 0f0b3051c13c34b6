/**
 * The significance tests of TransLLM's App. C.1 (`../shared/papers/000_1ce36f3811662daf.txt`): a two-sided binomial
 * test of the win rate without ties for judged comparisons (Tables 1, 4), and a χ² test for safety results (Table 3).
 * Results are marked significant at p < 0.05, as the paper marks them bold.
 */

/** The paper's threshold (App. C.1 / Sec. 3.1: "statistically significant (p < 0.05)"). */
export const SIGNIFICANCE_LEVEL = 0.05;

export interface BinomialTest {
	wins: number;
	losses: number;
	/** p_win = n_win / (n_win + n_loss), ties left out. */
	pWin: number;
	/** Two-sided exact p-value under H0: p_win = 0.5. */
	p: number;
	significant: boolean;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~15 significant digits). */
function logGamma(x: number): number {
	const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
	if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
	const z = x - 1;
	let sum = c[0] as number;
	for (let i = 1; i < 9; i++) sum += (c[i] as number) / (z + i);
	const t = z + 7.5;
	return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * Two-sided exact binomial test of `wins` against `losses` with H0 p = 0.5 (App. C.1). With p = 0.5 the
 * distribution is symmetric, so the two-sided p-value is 2·P(X ≤ min(k, n − k)), capped at 1 (as scipy's binomtest).
 */
export function binomialTest(wins: number, losses: number): BinomialTest {
	const n = wins + losses;
	if (n === 0) return { wins, losses, pWin: 0, p: 1, significant: false };
	const k = Math.min(wins, losses);
	// P(X = i) = C(n, i) / 2^n, summed in log space (n may be thousands of questions).
	const logTerm = (i: number): number => logGamma(n + 1) - logGamma(i + 1) - logGamma(n - i + 1) - n * Math.LN2;
	let tail = 0;
	for (let i = 0; i <= k; i++) tail += Math.exp(logTerm(i));
	const p = Math.min(1, 2 * tail);
	return { wins, losses, pWin: wins / n, p, significant: p < SIGNIFICANCE_LEVEL };
}

/** Q(a, x) = Γ(a, x) / Γ(a), the regularised upper incomplete gamma function (series or Lentz continued fraction). */
function upperGammaRegularized(a: number, x: number): number {
	if (x <= 0) return 1;
	const prefix = a * Math.log(x) - x - logGamma(a);
	if (x < a + 1) {
		let term = 1 / a;
		let sum = term;
		for (let n = 1; n < 1000 && Math.abs(term) > Math.abs(sum) * 1e-16; n++) {
			term *= x / (a + n);
			sum += term;
		}
		return 1 - sum * Math.exp(prefix);
	}
	const tiny = 1e-300;
	let b = x + 1 - a;
	let c = 1 / tiny;
	let d = 1 / b;
	let h = d;
	for (let i = 1; i < 1000; i++) {
		const an = -i * (i - a);
		b += 2;
		d = an * d + b;
		if (Math.abs(d) < tiny) d = tiny;
		c = b + an / c;
		if (Math.abs(c) < tiny) c = tiny;
		d = 1 / d;
		const delta = d * c;
		h *= delta;
		if (Math.abs(delta - 1) < 1e-16) break;
	}
	return Math.exp(prefix) * h;
}

export interface ChiSquareTest {
	/** Pearson's statistic Σ (O − E)² / E (no Yates correction; the paper does not name one). */
	chi2: number;
	df: number;
	p: number;
	significant: boolean;
}

/**
 * Pearson's χ² test of independence on a contingency table (rows: models, columns: labels such as Reject / Bypass /
 * Unclear), App. C.1's test for Table 3. Columns empty in every row are left out (they carry no information and
 * would divide by zero); the degrees of freedom are (rows − 1)(columns − 1) of what remains.
 */
export function chiSquareTest(table: readonly (readonly number[])[]): ChiSquareTest {
	const rows = table.filter((row) => row.reduce((a, b) => a + b, 0) > 0);
	const width = Math.max(0, ...rows.map((row) => row.length));
	const columns = Array.from({ length: width }, (_, j) => j).filter((j) => rows.some((row) => (row[j] ?? 0) > 0));
	const df = (rows.length - 1) * (columns.length - 1);
	if (df <= 0) return { chi2: 0, df: 0, p: 1, significant: false };
	const rowSums = rows.map((row) => columns.reduce((s, j) => s + (row[j] ?? 0), 0));
	const colSums = columns.map((j) => rows.reduce((s, row) => s + (row[j] ?? 0), 0));
	const total = rowSums.reduce((a, b) => a + b, 0);
	let chi2 = 0;
	rows.forEach((row, i) =>
		columns.forEach((j, c) => {
			const expected = ((rowSums[i] as number) * (colSums[c] as number)) / total;
			chi2 += ((row[j] ?? 0) - expected) ** 2 / expected;
		}),
	);
	const p = upperGammaRegularized(df / 2, chi2 / 2);
	return { chi2, df, p, significant: p < SIGNIFICANCE_LEVEL };
}
