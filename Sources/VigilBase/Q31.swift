/// A signed fraction in Q31: 1 sign bit and 31 fraction bits, value = `rawValue / 2^31`,
/// range −1 … 1 − 2⁻³¹. The internal precision of vigil's FFT and the format of its spectra.
///
/// Conversions saturate (never wrap) and round to nearest, ties away from zero for `Double`
/// and ties toward +∞ for the integer shifts, so results are bit-exact on every CPU.
@frozen public struct Q31: Hashable, Sendable, Comparable {
    public var rawValue: Int32

    @inlinable public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let fractionBits = 31
    public static let max = Q31(rawValue: .max)
    public static let min = Q31(rawValue: .min)
    public static let zero = Q31(rawValue: 0)

    /// The nearest Q31 to `value`, saturated to the range; NaN becomes zero.
    @inlinable public init(saturating value: Double) {
        guard value == value else { self.rawValue = 0; return }
        let scaled = (value * 2147483648).rounded(.toNearestOrAwayFromZero)
        self.rawValue = scaled >= 2147483647 ? .max : (scaled <= -2147483648 ? .min : Int32(scaled))
    }

    /// A Q15 widened exactly (the low 16 bits are zero).
    @inlinable public init(_ value: Q15) { self.rawValue = Int32(value.rawValue) << 16 }

    /// The value as a fraction of full scale.
    @inlinable public var doubleValue: Double { Double(rawValue) / 2147483648 }

    @inlinable public static func < (a: Q31, b: Q31) -> Bool { a.rawValue < b.rawValue }

    /// `a + b`, saturated.
    @inlinable public static func addingSaturated(_ a: Q31, _ b: Q31) -> Q31 {
        Q31(rawValue: Int32(clamping: Int64(a.rawValue) + Int64(b.rawValue)))
    }

    /// `a × b` rounded to nearest, saturated (only −1 × −1 saturates).
    @inlinable public static func multipliedRounding(_ a: Q31, _ b: Q31) -> Q31 {
        let p = (Int64(a.rawValue) * Int64(b.rawValue) + (1 << 30)) >> 31
        return Q31(rawValue: Int32(clamping: p))
    }
}
