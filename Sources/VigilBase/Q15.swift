/// A signed fraction in Q15: 1 sign bit and 15 fraction bits, value = `rawValue / 2^15`,
/// range −1 … 1 − 2⁻¹⁵. The format accelerometer samples arrive in once left-justified.
///
/// Conversions saturate (never wrap) and round to nearest, ties away from zero, so the same input
/// gives the same bits on every CPU.
@frozen public struct Q15: Hashable, Sendable, Comparable {
    public var rawValue: Int16

    @inlinable public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let fractionBits = 15
    public static let max = Q15(rawValue: .max)
    public static let min = Q15(rawValue: .min)
    public static let zero = Q15(rawValue: 0)

    /// The nearest Q15 to `value`, saturated to the range; NaN becomes zero.
    @inlinable public init(saturating value: Double) {
        guard value == value else { self.rawValue = 0; return }
        let scaled = (value * 32768).rounded(.toNearestOrAwayFromZero)
        self.rawValue = scaled >= 32767 ? .max : (scaled <= -32768 ? .min : Int16(scaled))
    }

    /// A Q31 narrowed to Q15 with rounding, saturating at +1 − 2⁻¹⁵.
    @inlinable public init(rounding value: Q31) {
        let r = (Int64(value.rawValue) + (1 << 15)) >> 16
        self.rawValue = r > Int64(Int16.max) ? .max : Int16(r)
    }

    /// The value as a fraction of full scale.
    @inlinable public var doubleValue: Double { Double(rawValue) / 32768 }

    @inlinable public static func < (a: Q15, b: Q15) -> Bool { a.rawValue < b.rawValue }

    /// `a + b`, saturated.
    @inlinable public static func addingSaturated(_ a: Q15, _ b: Q15) -> Q15 {
        let s = Int32(a.rawValue) + Int32(b.rawValue)
        return Q15(rawValue: Int16(clamping: s))
    }

    /// `a × b` rounded to nearest, saturated (only −1 × −1 saturates).
    @inlinable public static func multipliedRounding(_ a: Q15, _ b: Q15) -> Q15 {
        let p = (Int32(a.rawValue) * Int32(b.rawValue) + (1 << 14)) >> 15
        return Q15(rawValue: Int16(clamping: p))
    }
}
