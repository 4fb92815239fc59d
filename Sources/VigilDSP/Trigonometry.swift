/// Sine and cosine computed with IEEE-754 double `+ − × ÷` only, in a fixed order, so twiddle and
/// window tables come out bit-identical on every CPU and libm (glibc's `cos` differs between
/// releases and architectures in the last bit, which would flip a rounded Q31 table entry).
///
/// `Tests/Golden/generate.py` evaluates the same series in the same order.
public enum Trigonometry {
    static let quarterPi = 0.78539816339744830961566084581987572

    /// sin x for |x| ≤ π/4: its Taylor series to x¹⁷ by Horner's rule in x² (remainder below
    /// 1e−19), coefficients ±1/k! written out so that no table is touched on the hot path.
    static func sinReduced(_ x: Double) -> Double {
        let x2 = x * x
        var acc = 1.0 / 355687428096000.0
        acc = acc * x2 + -1.0 / 1307674368000.0
        acc = acc * x2 + 1.0 / 6227020800.0
        acc = acc * x2 + -1.0 / 39916800.0
        acc = acc * x2 + 1.0 / 362880.0
        acc = acc * x2 + -1.0 / 5040.0
        acc = acc * x2 + 1.0 / 120.0
        acc = acc * x2 + -1.0 / 6.0
        acc = acc * x2 + 1.0
        return acc * x
    }

    /// cos x for |x| ≤ π/4, to x¹⁶.
    static func cosReduced(_ x: Double) -> Double {
        let x2 = x * x
        var acc = 1.0 / 20922789888000.0
        acc = acc * x2 + -1.0 / 87178291200.0
        acc = acc * x2 + 1.0 / 479001600.0
        acc = acc * x2 + -1.0 / 3628800.0
        acc = acc * x2 + 1.0 / 40320.0
        acc = acc * x2 + -1.0 / 720.0
        acc = acc * x2 + 1.0 / 24.0
        acc = acc * x2 + -1.0 / 2.0
        acc = acc * x2 + 1.0
        return acc
    }

    /// (cos, sin) of 2π·k/n, exact in its octant reduction because k and n are integers.
    public static func cosSin(turns k: Int, of n: Int) -> (cos: Double, sin: Double) {
        precondition(n > 0)
        let k = ((k % n) + n) % n
        let octant = (8 * k) / n
        let r = 8 * k - octant * n
        let phi = Double(r) / Double(n) * quarterPi        // angle past the octant's start
        let psi = Double(n - r) / Double(n) * quarterPi    // angle before the octant's end
        switch octant {
        case 0: return (cosReduced(phi), sinReduced(phi))
        case 1: return (sinReduced(psi), cosReduced(psi))
        case 2: return (-sinReduced(phi), cosReduced(phi))
        case 3: return (-cosReduced(psi), sinReduced(psi))
        case 4: return (-cosReduced(phi), -sinReduced(phi))
        case 5: return (-sinReduced(psi), -cosReduced(psi))
        case 6: return (sinReduced(phi), -cosReduced(phi))
        default: return (cosReduced(psi), -sinReduced(psi))
        }
    }

    /// sin(π·x) for any finite x (window scalloping corrections, the simulator's oscillators).
    public static func sinPi(_ x: Double) -> Double {
        // Reduce to [−1, 1) by whole turns, then to [−½, ½] by symmetry.
        var t = x - 2 * (x / 2).rounded(.down) // [0, 2)
        var sign = 1.0
        if t >= 1 { t -= 1; sign = -1 }          // sin(π(t+1)) = −sin(πt)
        if t > 0.5 { t = 1 - t }                 // sin(π(1−t)) = sin(πt)
        if t <= 0.25 { return sign * sinReduced(t * 4 * quarterPi) }
        return sign * cosReduced((0.5 - t) * 4 * quarterPi)
    }
}
