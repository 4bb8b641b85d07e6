/**
 * Unconstrained L-BFGS that mirrors scipy's L-BFGS-B (v3.0, as called by
 * `scipy.optimize.minimize(method='L-BFGS-B')`, which scikit-learn's
 * LogisticRegression(solver='lbfgs') uses) when no bounds are given:
 *
 *  - direction d = −H·g with the two-loop recursion over the last m (=maxcor=10)
 *    pairs, H0 = (sᵀy / yᵀy)·I — the same matrix as L-BFGS-B's compact form with
 *    θ = yᵀy / sᵀy when there are no bounds;
 *  - a pair is skipped when sᵀy <= ε·(−gᵀd·stp) (L-BFGS-B's curvature test);
 *  - line search: MINPACK-2 dcsrch (Moré–Thuente, strong Wolfe) with
 *    ftol=1e-3, gtol=0.9, xtol=0.1, stpmin=0, stpmax=1e10, at most maxls=20
 *    evaluations; first step 1/‖d‖ on the first iteration, 1 afterwards; on a
 *    failed search the memory is dropped and the iteration restarted from
 *    steepest descent (L-BFGS-B's RESTART_FROM_LNSRCH), or, with empty memory,
 *    it stops (ABNORMAL_TERMINATION_IN_LNSRCH);
 *  - stopping, in L-BFGS-B's order: max|g| <= gtol (the projected gradient
 *    without bounds), then (f_old − f)/max(|f_old|,|f|,1) <= ftol (2.22e-9 =
 *    factr 1e7 · eps, scipy's default), and scipy's wrapper stops once
 *    `maxIter` iterations (completed line searches) are done.
 * The iteration count is therefore comparable with sklearn's `n_iter_`.
 * All vector arithmetic is float64 with a fixed reduction order.
 */

export type FG = (x: Float64Array, g: Float64Array) => Promise<number> | number;

export interface LbfgsOptions {
  maxIter: number;
  gtol: number;
  ftol?: number;
  m?: number;
  maxls?: number;
  /** Called after every completed iteration. */
  onIter?: (iter: number, f: number, gmax: number) => void;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  g: Float64Array;
  iterations: number;
  nfev: number;
  converged: boolean;
  message: string;
}

const EPS = 2.220446049250313e-16;

function dot(a: Float64Array, b: Float64Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = a.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
    s2 += a[i + 2]! * b[i + 2]!;
    s3 += a[i + 3]! * b[i + 3]!;
  }
  for (; i < n; i++) s0 += a[i]! * b[i]!;
  return s0 + s1 + (s2 + s3);
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (v > m) m = v;
  }
  return m;
}

// The vector loops live in small functions of their own: inside the long async lbfgs body V8 optimises them
// poorly (most of a small fit's time went there).

/** d = -g. */
function negate(g: Float64Array, d: Float64Array): void {
  for (let i = 0; i < d.length; i++) d[i] = -g[i]!;
}

/** d -= a * v. */
function subtractScaled(d: Float64Array, a: number, v: Float64Array): void {
  for (let i = 0; i < d.length; i++) d[i] -= a * v[i]!;
}

/** d += a * v. */
function addScaled(d: Float64Array, a: number, v: Float64Array): void {
  for (let i = 0; i < d.length; i++) d[i] += a * v[i]!;
}

/** d *= h. */
function scale(d: Float64Array, h: number): void {
  for (let i = 0; i < d.length; i++) d[i] *= h;
}

/** x = t + stp * d (written as scipy computes it: t + d when stp is 1). */
function step(x: Float64Array, t: Float64Array, stp: number, d: Float64Array): void {
  if (stp === 1) for (let i = 0; i < x.length; i++) x[i] = t[i]! + d[i]!;
  else for (let i = 0; i < x.length; i++) x[i] = stp * d[i]! + t[i]!;
}

/** The memory pair s = stp * d, y = g - r. */
function pair(s: Float64Array, yv: Float64Array, stp: number, d: Float64Array, g: Float64Array, r: Float64Array): void {
  for (let i = 0; i < s.length; i++) {
    s[i] = stp * d[i]!;
    yv[i] = g[i]! - r[i]!;
  }
}

// ---------------------------------------------------------------------------
// MINPACK-2 dcsrch / dcstep (Moré & Thuente 1994), as shipped in L-BFGS-B 3.0.

interface SearchState {
  brackt: boolean;
  stage: number;
  ginit: number;
  gtest: number;
  gx: number;
  gy: number;
  finit: number;
  fx: number;
  fy: number;
  stx: number;
  sty: number;
  stmin: number;
  stmax: number;
  width: number;
  width1: number;
}

interface StepBox {
  stx: number;
  fx: number;
  dx: number;
  sty: number;
  fy: number;
  dy: number;
  stp: number;
  brackt: boolean;
}

function dcstep(s: StepBox, fp: number, dp: number, stpmin: number, stpmax: number): void {
  const { stx, fx, dx, sty, fy, dy, stp } = s;
  const sgnd = dp * (dx / Math.abs(dx));
  let stpf: number;
  if (fp > fx) {
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const sc = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = sc * Math.sqrt((theta / sc) * (theta / sc) - (dx / sc) * (dp / sc));
    if (stp < stx) gamma = -gamma;
    const p = gamma - dx + theta;
    const q = gamma - dx + gamma + dp;
    const r = p / q;
    const stpc = stx + r * (stp - stx);
    const stpq = stx + (dx / ((fx - fp) / (stp - stx) + dx) / 2) * (stp - stx);
    if (Math.abs(stpc - stx) < Math.abs(stpq - stx)) stpf = stpc;
    else stpf = stpc + (stpq - stpc) / 2;
    s.brackt = true;
  } else if (sgnd < 0) {
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const sc = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = sc * Math.sqrt((theta / sc) * (theta / sc) - (dx / sc) * (dp / sc));
    if (stp > stx) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma - dp + gamma + dx;
    const r = p / q;
    const stpc = stp + r * (stx - stp);
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
    s.brackt = true;
  } else if (Math.abs(dp) < Math.abs(dx)) {
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const sc = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = sc * Math.sqrt(Math.max(0, (theta / sc) * (theta / sc) - (dx / sc) * (dp / sc)));
    if (stp > stx) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma + (dx - dp) + gamma;
    const r = p / q;
    let stpc: number;
    if (r < 0 && gamma !== 0) stpc = stp + r * (stx - stp);
    else if (stp > stx) stpc = stpmax;
    else stpc = stpmin;
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    if (s.brackt) {
      stpf = Math.abs(stpc - stp) < Math.abs(stpq - stp) ? stpc : stpq;
      if (stp > stx) stpf = Math.min(stp + 0.66 * (sty - stp), stpf);
      else stpf = Math.max(stp + 0.66 * (sty - stp), stpf);
    } else {
      stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
      stpf = Math.min(stpmax, stpf);
      stpf = Math.max(stpmin, stpf);
    }
  } else {
    if (s.brackt) {
      const theta = (3 * (fp - fy)) / (sty - stp) + dy + dp;
      const sc = Math.max(Math.abs(theta), Math.abs(dy), Math.abs(dp));
      let gamma = sc * Math.sqrt((theta / sc) * (theta / sc) - (dy / sc) * (dp / sc));
      if (stp > sty) gamma = -gamma;
      const p = gamma - dp + theta;
      const q = gamma - dp + gamma + dy;
      const r = p / q;
      stpf = stp + r * (sty - stp);
    } else if (stp > stx) stpf = stpmax;
    else stpf = stpmin;
  }
  if (fp > fx) {
    s.sty = stp;
    s.fy = fp;
    s.dy = dp;
  } else {
    if (sgnd < 0) {
      s.sty = stx;
      s.fy = fx;
      s.dy = dx;
    }
    s.stx = stp;
    s.fx = fp;
    s.dx = dp;
  }
  s.stp = stpf;
}

type SearchTask = 'FG' | 'CONVERGENCE' | 'WARNING';

class Dcsrch {
  private st!: SearchState;
  constructor(
    private readonly ftol: number,
    private readonly gtol: number,
    private readonly xtol: number,
    private readonly stpmin: number,
    private readonly stpmax: number,
  ) {}

  /** First call: returns the first trial step (= stp). */
  start(f: number, g: number, stp: number): number {
    const width = this.stpmax - this.stpmin;
    this.st = {
      brackt: false,
      stage: 1,
      finit: f,
      ginit: g,
      gtest: this.ftol * g,
      width,
      width1: width / 0.5,
      stx: 0,
      fx: f,
      gx: g,
      sty: 0,
      fy: f,
      gy: g,
      stmin: 0,
      stmax: stp + 4.0 * stp,
    };
    return stp;
  }

  /** Given f, g at stp, returns the task and the next stp. */
  step(f: number, g: number, stp: number): { task: SearchTask; stp: number } {
    const st = this.st;
    const ftest = st.finit + stp * st.gtest;
    if (st.stage === 1 && f <= ftest && g >= 0) st.stage = 2;
    let warn = false;
    if (st.brackt && (stp <= st.stmin || stp >= st.stmax)) warn = true;
    if (st.brackt && st.stmax - st.stmin <= this.xtol * st.stmax) warn = true;
    if (stp === this.stpmax && f <= ftest && g <= st.gtest) warn = true;
    if (stp === this.stpmin && (f > ftest || g >= st.gtest)) warn = true;
    if (f <= ftest && Math.abs(g) <= this.gtol * -st.ginit) return { task: 'CONVERGENCE', stp };
    if (warn) return { task: 'WARNING', stp };

    const box: StepBox = { stx: st.stx, fx: st.fx, dx: st.gx, sty: st.sty, fy: st.fy, dy: st.gy, stp, brackt: st.brackt };
    if (st.stage === 1 && f <= st.fx && f > ftest) {
      const fm = f - stp * st.gtest;
      const gm = g - st.gtest;
      box.fx = st.fx - st.stx * st.gtest;
      box.fy = st.fy - st.sty * st.gtest;
      box.dx = st.gx - st.gtest;
      box.dy = st.gy - st.gtest;
      dcstep(box, fm, gm, st.stmin, st.stmax);
      st.fx = box.fx + box.stx * st.gtest;
      st.fy = box.fy + box.sty * st.gtest;
      st.gx = box.dx + st.gtest;
      st.gy = box.dy + st.gtest;
    } else {
      dcstep(box, f, g, st.stmin, st.stmax);
      st.fx = box.fx;
      st.fy = box.fy;
      st.gx = box.dx;
      st.gy = box.dy;
    }
    st.stx = box.stx;
    st.sty = box.sty;
    st.brackt = box.brackt;
    stp = box.stp;
    if (st.brackt) {
      if (Math.abs(st.sty - st.stx) >= 0.66 * st.width1) stp = st.stx + 0.5 * (st.sty - st.stx);
      st.width1 = st.width;
      st.width = Math.abs(st.sty - st.stx);
    }
    if (st.brackt) {
      st.stmin = Math.min(st.stx, st.sty);
      st.stmax = Math.max(st.stx, st.sty);
    } else {
      st.stmin = stp + 1.1 * (stp - st.stx);
      st.stmax = stp + 4.0 * (stp - st.stx);
    }
    stp = Math.max(stp, this.stpmin);
    stp = Math.min(stp, this.stpmax);
    if ((st.brackt && (stp <= st.stmin || stp >= st.stmax)) || (st.brackt && st.stmax - st.stmin <= this.xtol * st.stmax)) {
      stp = st.stx;
    }
    return { task: 'FG', stp };
  }
}

// ---------------------------------------------------------------------------

export async function lbfgs(fg: FG, x0: Float64Array, opts: LbfgsOptions): Promise<LbfgsResult> {
  const n = x0.length;
  const m = opts.m ?? 10;
  const maxls = opts.maxls ?? 20;
  const ftolRel = opts.ftol ?? 1e7 * EPS;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  const d = new Float64Array(n);
  const t = new Float64Array(n); // x at the start of the line search
  const r = new Float64Array(n); // g at the start of the line search
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(m);

  let f = await fg(x, g);
  let nfev = 1;
  let iter = 0;
  if (!Number.isFinite(f)) {
    return { x, f, g, iterations: 0, nfev, converged: false, message: 'NON_FINITE_OBJECTIVE' };
  }
  if (maxAbs(g) <= opts.gtol) {
    return { x, f, g, iterations: 0, nfev, converged: true, message: 'CONVERGENCE: NORM_OF_PROJECTED_GRADIENT_<=_PGTOL' };
  }

  for (;;) {
    // Search direction: two-loop recursion (newest pair last).
    negate(g, d);
    const k = S.length;
    for (let j = k - 1; j >= 0; j--) {
      const a = rho[j]! * dot(S[j]!, d);
      alpha[j] = a;
      subtractScaled(d, a, Y[j]!);
    }
    if (k > 0) {
      const sy = 1 / rho[k - 1]!;
      const yy = dot(Y[k - 1]!, Y[k - 1]!);
      scale(d, sy / yy);
    }
    for (let j = 0; j < k; j++) {
      const bcoef = rho[j]! * dot(Y[j]!, d);
      addScaled(d, alpha[j]! - bcoef, S[j]!);
    }

    // Line search (lnsrlb).
    const dnorm = Math.sqrt(dot(d, d));
    const stpmx = 1e10;
    let stp = iter === 0 ? Math.min(1 / dnorm, stpmx) : 1;
    t.set(x);
    r.set(g);
    const fold = f;
    const gdold = dot(g, d);
    let failed = gdold >= 0; // not a descent direction
    let gd = gdold;
    if (!failed) {
      const ls = new Dcsrch(1e-3, 0.9, 0.1, 0, stpmx);
      stp = ls.start(f, gdold, stp);
      let ifun = 0;
      for (;;) {
        if (ifun >= maxls) {
          failed = true;
          break;
        }
        step(x, t, stp, d);
        f = await fg(x, g);
        nfev++;
        ifun++;
        gd = dot(g, d);
        if (!Number.isFinite(f) || !Number.isFinite(gd)) {
          failed = true;
          break;
        }
        const res = ls.step(f, gd, stp);
        if (res.task !== 'FG') break;
        stp = res.stp;
      }
    }
    if (failed) {
      x.set(t);
      g.set(r);
      f = fold;
      if (S.length === 0) {
        return { x, f, g, iterations: iter, nfev, converged: false, message: 'ABNORMAL_TERMINATION_IN_LNSRCH' };
      }
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      continue; // RESTART_FROM_LNSRCH: steepest descent, iter unchanged
    }

    iter++;
    const gmax = maxAbs(g);
    opts.onIter?.(iter, f, gmax);
    if (iter >= opts.maxIter) {
      return { x, f, g, iterations: iter, nfev, converged: false, message: 'STOP: TOTAL NO. of ITERATIONS REACHED LIMIT' };
    }
    if (gmax <= opts.gtol) {
      return { x, f, g, iterations: iter, nfev, converged: true, message: 'CONVERGENCE: NORM_OF_PROJECTED_GRADIENT_<=_PGTOL' };
    }
    const ddum0 = Math.max(Math.abs(fold), Math.abs(f), 1);
    if (fold - f <= ftolRel * ddum0) {
      return { x, f, g, iterations: iter, nfev, converged: true, message: 'CONVERGENCE: REL_REDUCTION_OF_F_<=_FACTR*EPSMCH' };
    }

    // Memory update: s = stp·d, y = g − g_old.
    const dr = (gd - gdold) * stp; // sᵀy
    const ddum = -gdold * stp;
    if (dr <= EPS * ddum) continue; // skip the update
    let s: Float64Array;
    let yv: Float64Array;
    if (S.length === m) {
      s = S.shift()!;
      yv = Y.shift()!;
      rho.shift();
    } else {
      s = new Float64Array(n);
      yv = new Float64Array(n);
    }
    pair(s, yv, stp, d, g, r);
    S.push(s);
    Y.push(yv);
    rho.push(1 / dr);
  }
}
