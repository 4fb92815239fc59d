/// Why a DSP set-up or block was refused.
public enum DSPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The FFT length is not a power of two in 64…8192.
    case unsupportedLength(Int)
    /// A caller buffer has the wrong number of elements.
    case bufferSize(name: String, expected: Int, actual: Int)
    /// Fewer samples than one analysis block.
    case blockTooShort(expected: Int, actual: Int)
    /// An analysis setting is out of range (band above Nyquist, inverted band, ...).
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .unsupportedLength(let n): return "FFT length \(n) is not a power of two in 64…8192"
        case .bufferSize(let name, let expected, let actual): return "\(name) holds \(actual) elements; expected \(expected)"
        case .blockTooShort(let expected, let actual): return "block has \(actual) samples; analysis needs \(expected)"
        case .invalidConfiguration(let why): return why
        }
    }
}
