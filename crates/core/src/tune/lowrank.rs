//! Low-rank factorisation of a trained weight difference, for a LoRA
//! adapter: ΔW (out × in) ≈ B·A with B out × r and A r × in.
//!
//! Randomized range finding (Halko, Martinsson, Tropp 2011): the range of
//! ΔW·Ω for a random Ω of r + 8 columns, sharpened by two power iterations,
//! holds the top singular directions; the small (r + 8) × in problem left
//! is solved exactly (Jacobi) and cut to rank r.

/// A LoRA pair for one tensor: `a` is r × cols, `b` rows × r, row-major,
/// with ΔW ≈ b·a. `kept` is the share of ΔW's squared norm the pair keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Factors {
    pub rank: usize,
    pub a: Vec<f32>,
    pub b: Vec<f32>,
    pub kept: f64,
}

/// ΔW (rows × cols, row-major) to its best rank-`rank` pair (nearly: the
/// randomized range loses a little on flat spectra).
pub fn factor(delta: &[f32], rows: usize, cols: usize, rank: usize, seed: u64) -> Factors {
    assert_eq!(delta.len(), rows * cols, "delta is rows × cols");
    let rank = rank.clamp(1, rows.min(cols));
    let k = (rank + 8).min(rows.min(cols));
    let d: Vec<f64> = delta.iter().map(|&x| f64::from(x)).collect();
    let total: f64 = d.iter().map(|x| x * x).sum();

    // Y = ΔW·Ω (rows × k), then two rounds of Y = ΔW·(ΔWᵀ·Y).
    let mut rng = Rng(seed | 1);
    let omega: Vec<f64> = (0..cols * k).map(|_| rng.normal()).collect();
    let mut y = mul(&d, rows, cols, &omega, k);
    orthonormalize(&mut y, rows, k);
    for _ in 0..2 {
        let z = mul_t(&d, rows, cols, &y, k); // cols × k
        y = mul(&d, rows, cols, &z, k);
        orthonormalize(&mut y, rows, k);
    }
    // C = Qᵀ·ΔW (k × cols); C·Cᵀ = U Σ² Uᵀ.
    let c = t_mul(&y, rows, k, &d, cols);
    let mut gram = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let s: f64 = (0..cols).map(|x| c[i * cols + x] * c[j * cols + x]).sum();
            gram[i * k + j] = s;
            gram[j * k + i] = s;
        }
    }
    let (values, vectors) = jacobi(gram, k);
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&i, &j| values[j].total_cmp(&values[i]));
    let top = &order[..rank];

    // B = Q·U_r (rows × r); A = U_rᵀ·C (r × cols).
    let mut b = vec![0f32; rows * rank];
    let mut a = vec![0f32; rank * cols];
    let mut kept = 0.0;
    for (r, &e) in top.iter().enumerate() {
        for i in 0..rows {
            let s: f64 = (0..k).map(|j| y[i * k + j] * vectors[j * k + e]).sum();
            b[i * rank + r] = s as f32;
        }
        for x in 0..cols {
            let s: f64 = (0..k).map(|j| vectors[j * k + e] * c[j * cols + x]).sum();
            a[r * cols + x] = s as f32;
        }
        kept += values[e].max(0.0);
    }
    Factors {
        rank,
        a,
        b,
        kept: if total > 0.0 {
            (kept / total).min(1.0)
        } else {
            1.0
        },
    }
}

/// m (rows × cols) · x (cols × k).
fn mul(m: &[f64], rows: usize, cols: usize, x: &[f64], k: usize) -> Vec<f64> {
    let mut out = vec![0.0; rows * k];
    for i in 0..rows {
        let row = &m[i * cols..(i + 1) * cols];
        let o = &mut out[i * k..(i + 1) * k];
        for (c, &v) in row.iter().enumerate() {
            if v != 0.0 {
                for (oj, xj) in o.iter_mut().zip(&x[c * k..(c + 1) * k]) {
                    *oj += v * xj;
                }
            }
        }
    }
    out
}

/// mᵀ (cols × rows) · y (rows × k).
fn mul_t(m: &[f64], rows: usize, cols: usize, y: &[f64], k: usize) -> Vec<f64> {
    let mut out = vec![0.0; cols * k];
    for i in 0..rows {
        let yi = &y[i * k..(i + 1) * k];
        for c in 0..cols {
            let v = m[i * cols + c];
            for (oj, yj) in out[c * k..(c + 1) * k].iter_mut().zip(yi) {
                *oj += v * yj;
            }
        }
    }
    out
}

/// qᵀ (k × rows) · m (rows × cols).
fn t_mul(q: &[f64], rows: usize, k: usize, m: &[f64], cols: usize) -> Vec<f64> {
    let mut out = vec![0.0; k * cols];
    for i in 0..rows {
        let row = &m[i * cols..(i + 1) * cols];
        for j in 0..k {
            let v = q[i * k + j];
            for (o, r) in out[j * cols..(j + 1) * cols].iter_mut().zip(row) {
                *o += v * r;
            }
        }
    }
    out
}

/// Modified Gram-Schmidt on the k columns of y (rows × k); a column that
/// vanishes stays zero.
fn orthonormalize(y: &mut [f64], rows: usize, k: usize) {
    for j in 0..k {
        for p in 0..j {
            let dot: f64 = (0..rows).map(|i| y[i * k + j] * y[i * k + p]).sum();
            for i in 0..rows {
                y[i * k + j] -= dot * y[i * k + p];
            }
        }
        let norm = (0..rows).map(|i| y[i * k + j].powi(2)).sum::<f64>().sqrt();
        for i in 0..rows {
            y[i * k + j] = if norm > 1e-30 {
                y[i * k + j] / norm
            } else {
                0.0
            };
        }
    }
}

/// Eigenvalues and eigenvectors (columns) of a symmetric n × n matrix, by
/// cyclic Jacobi rotations.
fn jacobi(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _ in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j].powi(2))
            .sum();
        let diag: f64 = (0..n).map(|i| a[i * n + i].powi(2)).sum();
        if off <= 1e-24 * diag.max(1e-300) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for r in 0..n {
                    let (arp, arq) = (a[r * n + p], a[r * n + q]);
                    a[r * n + p] = c * arp - s * arq;
                    a[r * n + q] = s * arp + c * arq;
                }
                for r in 0..n {
                    let (apr, aqr) = (a[p * n + r], a[q * n + r]);
                    a[p * n + r] = c * apr - s * aqr;
                    a[q * n + r] = s * apr + c * aqr;
                }
                for r in 0..n {
                    let (vrp, vrq) = (v[r * n + p], v[r * n + q]);
                    v[r * n + p] = c * vrp - s * vrq;
                    v[r * n + q] = s * vrp + c * vrq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// xorshift64 with Box-Muller normals: reproducible, no dependency.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(f: &Factors, rows: usize, cols: usize) -> Vec<f32> {
        let mut out = vec![0f32; rows * cols];
        for i in 0..rows {
            for x in 0..cols {
                out[i * cols + x] = (0..f.rank)
                    .map(|r| f.b[i * f.rank + r] * f.a[r * cols + x])
                    .sum();
            }
        }
        out
    }

    fn low_rank_matrix(rows: usize, cols: usize, rank: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng(seed);
        let u: Vec<f64> = (0..rows * rank).map(|_| rng.normal()).collect();
        let v: Vec<f64> = (0..rank * cols).map(|_| rng.normal()).collect();
        (0..rows * cols)
            .map(|i| {
                let (r, c) = (i / cols, i % cols);
                // Falling singular values: 1, 1/2, 1/3, ...
                (0..rank)
                    .map(|k| u[r * rank + k] * v[k * cols + c] / (k + 1) as f64)
                    .sum::<f64>() as f32
            })
            .collect()
    }

    #[test]
    fn a_matrix_of_the_rank_asked_for_comes_back_whole() {
        let (rows, cols) = (40, 30);
        let m = low_rank_matrix(rows, cols, 4, 7);
        let f = factor(&m, rows, cols, 4, 1);
        let back = product(&f, rows, cols);
        let err: f32 = m
            .iter()
            .zip(&back)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f32>()
            .sqrt();
        let norm: f32 = m.iter().map(|a| a * a).sum::<f32>().sqrt();
        assert!(err / norm < 1e-4, "relative error {}", err / norm);
        assert!(f.kept > 0.9999, "kept {}", f.kept);
        assert_eq!((f.a.len(), f.b.len()), (4 * cols, rows * 4));
    }

    #[test]
    fn a_lower_rank_keeps_the_largest_directions_and_says_how_much() {
        let (rows, cols) = (50, 20);
        let m = low_rank_matrix(rows, cols, 6, 3);
        let f2 = factor(&m, rows, cols, 2, 1);
        let f4 = factor(&m, rows, cols, 4, 1);
        assert!(
            f2.kept < f4.kept && f4.kept < 1.0,
            "{} {}",
            f2.kept,
            f4.kept
        );
        // What is kept is what the product really holds.
        let back = product(&f2, rows, cols);
        let back_sq: f64 = back.iter().map(|x| f64::from(*x).powi(2)).sum();
        let total: f64 = m.iter().map(|x| f64::from(*x).powi(2)).sum();
        assert!((back_sq / total - f2.kept).abs() < 1e-3);
    }

    #[test]
    fn a_zero_difference_gives_zero_factors() {
        let f = factor(&[0.0; 12], 3, 4, 2, 1);
        assert!(f.a.iter().chain(&f.b).all(|x| *x == 0.0));
    }
}
