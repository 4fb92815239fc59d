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
}

// Elementary functions without Glibc: this target must build with no C library. These are only used
// by simulation and tests, never on fixed-point paths.
@usableFromInline func _log(_ x: Double) -> Double {
    // ln(x) = 2 artanh((x-1)/(x+1)) after range reduction to [0.5, 1) by powers of two.
    guard x > 0 else { return -.infinity }
    let e = x.exponent
    let m = x.significand / 2 // in [0.5, 1)
    let t = (m - 1) / (m + 1)
    let t2 = t * t
    var term = t, sum = 0.0, k = 1.0
    for _ in 0..<30 {
        sum += term / k
        term *= t2
        k += 2
    }
    return 2 * sum + Double(e + 1) * 0.693_147_180_559_945_3
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
