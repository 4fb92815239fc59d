import VigilBase
import VigilFrames

/// A channel's value as a technician reads it (issue 21): ISO 10816 zones as letters, states by
/// name, numbers to the channel's resolution. One place for `vigil status`, `vigil watch` and the
/// status JSON's `display` field.
extension ChannelDescriptor {
    public func display(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        switch quantity {
        case .isoZone:
            // The analysis writes zone A…D as 0…3 (ISO 10816-3 §5.3).
            let zones = ["A", "B", "C", "D"]
            let i = Int(value.rounded())
            return i >= 0 && i < zones.count ? zones[i] : ChannelDescriptor.fixed(value, resolution: resolution)
        case .digitalState:
            // A digital input (`NAME.state`) reads 1 while its contact is closed (active, after
            // active_low); a Modbus coil or bit is on or off.
            let on = value.rounded() != 0
            return name.hasSuffix(".state") ? (on ? "closed" : "open") : (on ? "on" : "off")
        case .interlockState:
            // 1 while any permissive is off (tripped, latched or waiting for its reset).
            return value.rounded() != 0 ? "not armed" : "armed"
        default:
            return ChannelDescriptor.fixed(value, resolution: resolution)
        }
    }

    /// `value` with as many decimals as `resolution` has (0.001 → 3), at most 6; no Foundation.
    public static func fixed(_ value: Double, resolution: Double) -> String {
        var decimals = 0
        var step = resolution > 0 ? resolution : 1
        while step < 0.999_999 && decimals < 6 { step *= 10; decimals += 1 }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e15 else { return value < 0 ? "-\(abs(value))" : "\(value)" }
        let whole = Int64(scaled)
        var digits = String(whole)
        if decimals > 0 {
            while digits.count <= decimals { digits = "0" + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
        }
        return (value < 0 && whole != 0 ? "-" : "") + digits
    }
}

/// An age as a technician reads it: `250 ms`, `3.2 s`, `4 min`, `2 h`, `3 d`, or `never`.
public enum AgeDisplay {
    public static func text(milliseconds: Int64?) -> String {
        guard let ms = milliseconds, ms >= 0 else { return "never" }
        if ms < 1000 { return "\(ms) ms" }
        if ms < 10_000 { return "\(ms / 1000).\((ms % 1000) / 100) s" }
        if ms < 120_000 { return "\(ms / 1000) s" }
        if ms < 7_200_000 { return "\(ms / 60_000) min" }
        if ms < 172_800_000 { return "\(ms / 3_600_000) h" }
        return "\(ms / 86_400_000) d"
    }
}
