#!/usr/bin/env python3
"""Golden vectors for vigil's fixed-point DSP (Sources/VigilDSP).

An independent model of the same integer algorithm (numpy int64), so the Swift tests compare
bit-exactly, plus numpy float64 references of the same quantized inputs for accuracy.

    generate.py OUT_DIR      writes the golden files into OUT_DIR

Scripts/test runs it into a scratch folder and diffs the result against the committed files,
so the committed expectations are always what this model computes.
"""
import sys
import numpy as np

QUARTER_PI = 0.78539816339744830961566084581987572
SIN_C = [1.0, -1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362880.0, -1.0 / 39916800.0,
         1.0 / 6227020800.0, -1.0 / 1307674368000.0, 1.0 / 355687428096000.0]
COS_C = [1.0, -1.0 / 2.0, 1.0 / 24.0, -1.0 / 720.0, 1.0 / 40320.0, -1.0 / 3628800.0,
         1.0 / 479001600.0, -1.0 / 87178291200.0, 1.0 / 20922789888000.0]


def sin_reduced(x):
    x2 = x * x
    acc = 0.0
    for c in reversed(SIN_C):
        acc = acc * x2 + c
    return acc * x


def cos_reduced(x):
    x2 = x * x
    acc = 0.0
    for c in reversed(COS_C):
        acc = acc * x2 + c
    return acc


def cos_sin(k, n):
    """(cos, sin) of 2*pi*k/n by the same octant reduction and series as Trigonometry.swift."""
    k = k % n
    octant = (8 * k) // n
    r = 8 * k - octant * n
    phi = r / n * QUARTER_PI
    psi = (n - r) / n * QUARTER_PI
    return [
        (cos_reduced(phi), sin_reduced(phi)), (sin_reduced(psi), cos_reduced(psi)),
        (-sin_reduced(phi), cos_reduced(phi)), (-cos_reduced(psi), sin_reduced(psi)),
        (-cos_reduced(phi), -sin_reduced(phi)), (-sin_reduced(psi), -cos_reduced(psi)),
        (sin_reduced(phi), -cos_reduced(phi)), (cos_reduced(psi), -sin_reduced(psi)),
    ][octant]


def round_away(v):
    """Round half away from zero, as Swift's .toNearestOrAwayFromZero."""
    return int(np.sign(v) * np.floor(abs(v) + 0.5))


def q30(v):
    return round_away(v * 1073741824.0)


def q15(v):
    s = round_away(v * 32768.0)
    return max(-32768, min(32767, s))


def bit_reverse(bits):
    n = 1 << bits
    out = np.zeros(n, dtype=np.int64)
    for i in range(n):
        r = 0
        for b in range(bits):
            if i & (1 << b):
                r |= 1 << (bits - 1 - b)
        out[i] = r
    return out


def fft_model(x, q31_input=False):
    """The fixed-point real FFT, stage by stage, as RealFFT.swift computes it. Returns int64 (re, im) pairs."""
    n = len(x)
    m = n // 2
    bits = m.bit_length() - 1
    tw = np.array([[q30(c), q30(s)] for c, s in (cos_sin(j, m) for j in range(max(3 * m // 4, 1)))], dtype=np.int64)
    stw = np.array([[q30(c), q30(s)] for c, s in (cos_sin(k, n) for k in range(m // 2 + 1))], dtype=np.int64)
    x = np.asarray(x, dtype=np.int64)
    if q31_input:
        zr, zi = (x[0::2] + 1) >> 1, (x[1::2] + 1) >> 1
    else:
        zr, zi = x[0::2] << 15, x[1::2] << 15
    rev = bit_reverse(bits)
    re = np.zeros(m, dtype=np.int64)
    im = np.zeros(m, dtype=np.int64)
    re[rev] = zr
    im[rev] = zi
    span = 1
    if bits & 1:
        ar, ai, br, bi = re[0::2].copy(), im[0::2].copy(), re[1::2].copy(), im[1::2].copy()
        re[0::2], im[0::2] = (ar + br + 1) >> 1, (ai + bi + 1) >> 1
        re[1::2], im[1::2] = (ar - br + 1) >> 1, (ai - bi + 1) >> 1
        span = 2
    half = np.int64(1 << 31)
    while span < m:
        q = span
        stride = m // (4 * q)
        j = np.arange(m) % (4 * q)
        sel = j < q                       # the first quarter of every block
        p0 = np.nonzero(sel)[0]
        jj = j[sel]
        p1, p2, p3 = p0 + q, p0 + 2 * q, p0 + 3 * q
        c1, s1 = tw[jj * stride, 0], tw[jj * stride, 1]
        c2, s2 = tw[2 * jj * stride, 0], tw[2 * jj * stride, 1]
        c3, s3 = tw[3 * jj * stride, 0], tw[3 * jj * stride, 1]
        ar, ai = re[p0] << 30, im[p0] << 30
        br, bi = re[p1] * c2 + im[p1] * s2, im[p1] * c2 - re[p1] * s2
        cr, ci = re[p2] * c1 + im[p2] * s1, im[p2] * c1 - re[p2] * s1
        dr, di = re[p3] * c3 + im[p3] * s3, im[p3] * c3 - re[p3] * s3
        apb_r, apb_i, amb_r, amb_i = ar + br, ai + bi, ar - br, ai - bi
        cpd_r, cpd_i, cmd_r, cmd_i = cr + dr, ci + di, cr - dr, ci - di
        re[p0], im[p0] = (apb_r + cpd_r + half) >> 32, (apb_i + cpd_i + half) >> 32
        re[p1], im[p1] = (amb_r + cmd_i + half) >> 32, (amb_i - cmd_r + half) >> 32
        re[p2], im[p2] = (apb_r - cpd_r + half) >> 32, (apb_i - cpd_i + half) >> 32
        re[p3], im[p3] = (amb_r - cmd_i + half) >> 32, (amb_i + cmd_r + half) >> 32
        span *= 4
    # Real split, k = 0 ... m.
    k = np.arange(m + 1)
    zk_r, zk_i = re[k % m], im[k % m]
    zl_r, zl_i = re[(m - k) % m], im[(m - k) % m]
    c = np.concatenate([stw[:, 0], -stw[::-1, 0][1:]])   # cos(2πk/N) for k = 0 … m
    s = np.concatenate([stw[:, 1], stw[::-1, 1][1:]])    # sin(2πk/N)
    ar, ai, br, bi = zk_r + zl_r, zk_i - zl_i, zk_r - zl_r, zk_i + zl_i
    tr, ti = c * bi - s * br, -s * bi - c * br
    out_r = ((ar << 30) + tr + (1 << 30)) >> 31
    out_i = ((ai << 30) + ti + (1 << 30)) >> 31
    out_r[0], out_i[0] = re[0] + im[0], 0
    out_r[m], out_i[m] = re[0] - im[0], 0
    return np.stack([out_r, out_i], axis=1).reshape(-1), tw.reshape(-1), stw.reshape(-1)


def windows(n):
    """Q15 window tables, the same expressions as Window.swift."""
    hann = [q15(0.5 - 0.5 * cos_sin(i, n)[0]) for i in range(n)]
    a = [0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368]
    flat = []
    for i in range(n):
        v = a[0]
        v = v - a[1] * cos_sin(i, n)[0]
        v = v + a[2] * cos_sin(2 * i, n)[0]
        v = v - a[3] * cos_sin(3 * i, n)[0]
        v = v + a[4] * cos_sin(4 * i, n)[0]
        flat.append(q15(v))
    return hann, flat


def test_signal(n, seed):
    """Three tones (0.5, 0.1, 0.01 of full scale) plus white noise at -60 dBFS, quantized to Q15."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    f = [n * 0.1234567, n * 0.0371, n * 0.3011]
    x = (0.5 * np.sin(2 * np.pi * f[0] * t / n + 0.3) + 0.1 * np.sin(2 * np.pi * f[1] * t / n + 1.1)
         + 0.01 * np.sin(2 * np.pi * f[2] * t / n + 2.0) + 1e-3 * rng.standard_normal(n))
    return np.clip(np.round(x * 32768), -32768, 32767).astype(np.int64)


def write(path, rows):
    with open(path, "w") as f:
        for name, values in rows:
            f.write(name + " " + " ".join(str(int(v)) for v in values) + "\n")


def write_float(path, rows):
    with open(path, "w") as f:
        for name, values in rows:
            f.write(name + " " + " ".join(repr(float(v)) for v in values) + "\n")


def main():
    out = sys.argv[1]
    for n in (64, 128, 1024, 2048):
        x = test_signal(n, seed=n)
        spectrum, tw, stw = fft_model(x)
        # Extreme inputs: full-scale square wave, all -1, an impulse.
        square = np.where((np.arange(n) // 4) % 2 == 0, 32767, -32768)
        neg = np.full(n, -32768)
        impulse = np.zeros(n, dtype=np.int64); impulse[3] = 32767
        x31 = (x << 16) + (np.arange(n) * 2654435761 % 65536) - 32768   # Q31 with low bits in use
        x31 = np.clip(x31, -(1 << 31), (1 << 31) - 1)
        reference = np.fft.rfft(x / 32768.0) / n
        write(f"{out}/fft-{n}.txt", [
            ("input_q15", x), ("spectrum", spectrum),
            ("square_q15", square), ("square_spectrum", fft_model(square)[0]),
            ("negative_q15", neg), ("negative_spectrum", fft_model(neg)[0]),
            ("impulse_q15", impulse), ("impulse_spectrum", fft_model(impulse)[0]),
            ("input_q31", x31), ("spectrum_q31_input", fft_model(x31, q31_input=True)[0]),
            ("twiddles_q30", tw), ("split_twiddles_q30", stw),
        ])
        write_float(f"{out}/fft-{n}-float64.txt", [
            ("reference_re", reference.real), ("reference_im", reference.imag),
        ])
        hann, flat = windows(n)
        write(f"{out}/window-{n}.txt", [("hann_q15", hann), ("flat_top_q15", flat)])


if __name__ == "__main__":
    main()
