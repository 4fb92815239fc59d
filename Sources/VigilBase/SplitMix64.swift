/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast, seedable generator. Deterministic on every
/// CPU, so simulations and fuzz tests replay exactly from their printed seed. Not cryptographic.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) from the top 53 bits.
    @inlinable public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal deviate (Box–Muller; one of the pair is discarded for simplicity).
    @inlinable public mutating func nextGaussian() -> Double {
        var u1 = nextUnitDouble()
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = nextUnitDouble()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// Two independent standard normal deviates (Marsaglia's polar method: one logarithm and one
    /// square root, no trigonometry). It rejects 21 % of the uniform pairs it draws, so it takes
    /// 1.27 draws on average; 20 rejections in a row have a probability of 4·10⁻¹⁴.
    @inlinable public mutating func nextGaussianPair() -> (Double, Double) {
        while true {
            let u = 2 * nextUnitDouble() - 1, v = 2 * nextUnitDouble() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let f = (-2 * _log(s) / s).squareRoot()
                return (u * f, v * f)
            }
        }
    }
}

// Elementary functions without Glibc: this target must build with no C library. These are only used
// by simulation and tests, never on fixed-point paths.
@usableFromInline func _log(_ x: Double) -> Double {
    // ln x = e·ln 2 + 2 artanh((m − 1)/(m + 1)) with x = m·2^e, m reduced to [√½, √2), so that
    // |t| ≤ 0.1716 and the odd series to t²³ leaves a remainder below 1e−19. Horner in t², no
    // division but the one for t.
    guard x > 0 else { return -.infinity }
    var e = x.exponent
    var m = x.significand // [1, 2)
    if m > 1.414_213_562_373_095_1 { m *= 0.5; e += 1 }
    let t = (m - 1) / (m + 1)
    let t2 = t * t
    var acc = 1.0 / 23
    acc = acc * t2 + 1.0 / 21
    acc = acc * t2 + 1.0 / 19
    acc = acc * t2 + 1.0 / 17
    acc = acc * t2 + 1.0 / 15
    acc = acc * t2 + 1.0 / 13
    acc = acc * t2 + 1.0 / 11
    acc = acc * t2 + 1.0 / 9
    acc = acc * t2 + 1.0 / 7
    acc = acc * t2 + 1.0 / 5
    acc = acc * t2 + 1.0 / 3
    acc = acc * t2 + 1
    return 2 * t * acc + Double(e) * 0.693_147_180_559_945_3
}

@usableFromInline func _cos(_ x: Double) -> Double {
    // Reduce to [-π, π], then a Taylor series long enough for double precision there.
    var r = x.truncatingRemainder(dividingBy: 2 * .pi)
    if r > .pi { r -= 2 * .pi } else if r < -.pi { r += 2 * .pi }
    let r2 = r * r
    var term = 1.0, sum = 1.0
    for n in 1...20 {
        term *= -r2 / Double((2 * n - 1) * (2 * n))
        sum += term
    }
    return sum
}
