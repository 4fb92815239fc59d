/// vigil's command-line parser: commands are structs whose `@Option`, `@Flag`, `@Argument` and
/// `@OptionGroup` properties declare what they accept, found by reflection (`Mirror`) and filled
/// through reference boxes. The same declarations give help, the man page and shell completions.
/// vigil's own, without Foundation (README, "Size").

/// A value an option or argument can take, parsed from its text.
public protocol ExpressibleByArgument {
    init?(argument: String)
    /// Every accepted spelling, for help, messages and completions (empty: any text of the type).
    static var allValueStrings: [String] { get }
}

extension ExpressibleByArgument {
    public static var allValueStrings: [String] { [] }
}

extension String: ExpressibleByArgument { public init?(argument: String) { self = argument } }
extension Int: ExpressibleByArgument { public init?(argument: String) { self.init(argument) } }
extension UInt64: ExpressibleByArgument { public init?(argument: String) { self.init(argument) } }
extension Double: ExpressibleByArgument {
    public init?(argument: String) {
        guard let d = Double(argument), d.isFinite else { return nil }
        self = d
    }
}

/// How an option is spelled on the command line.
public struct NameSpecification: Sendable {
    enum Kind: Sendable { case long, customLong(String), shortAndLong }
    let kind: Kind
    public static let long = NameSpecification(kind: .long)
    public static let shortAndLong = NameSpecification(kind: .shortAndLong)
    public static func customLong(_ name: String) -> NameSpecification { NameSpecification(kind: .customLong(name)) }

    func names(for label: String) -> (long: String, short: Character?) {
        switch kind {
        case .long: return (kebabCase(label), nil)
        case .customLong(let n): return (n, nil)
        case .shortAndLong: let l = kebabCase(label); return (l, l.first)
        }
    }
}

/// `timeoutMs` → `timeout-ms`, `caFile` → `ca-file`, `readURL` → `read-url`.
func kebabCase(_ s: String) -> String {
    let chars = Array(s)
    var out = ""
    for (i, c) in chars.enumerated() {
        if c.isUppercase {
            let previous = i > 0 ? chars[i - 1] : nil
            let next = i + 1 < chars.count ? chars[i + 1] : nil
            if let p = previous, p.isLowercase || p.isNumber || (p.isUppercase && (next?.isLowercase ?? false)) { out += "-" }
            out += c.lowercased()
        } else {
            out.append(c)
        }
    }
    return out
}

// MARK: - What a declaration says

/// One option, flag or positional argument of a command, as help and the parser see it.
public struct ArgumentDefinition {
    public enum Kind { case option, flag, positional }
    public var kind: Kind
    public var long: String
    public var short: Character?
    public var help: String
    public var valueName: String
    public var isRequired: Bool
    public var isRepeating: Bool
    public var defaultDescription: String?
    public var choices: [String]

    /// `--count <count>`, `-v, --verbose`, `<files> ...`.
    var synopsis: String {
        switch kind {
        case .flag: return "--\(long)"
        case .option: return "--\(long) <\(valueName)>"
        case .positional: return "<\(valueName)>" + (isRepeating ? " ..." : "")
        }
    }
    var label: String { (short.map { "-\($0), " } ?? "") + synopsis }
}

/// A declared property: its definition, and how to give it its parsed value.
protocol ArgumentSlot {
    func definition(label: String) -> ArgumentDefinition
    /// Takes the texts given for it (one per use; positionals: all of them).
    func assign(_ texts: [String], definition: ArgumentDefinition) throws(CommandLineError)
}

protocol ArgumentGroupSlot {
    var groupValue: Any { get }
}

final class Box<Value> {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// How a default is written on the command line: an enum by its raw value (`pull-up`, not `pullUp`).
func argumentText<Value>(_ value: Value) -> String {
    if let raw = value as? any RawRepresentable { return "\(raw.rawValue)" }
    return "\(value)"
}

func invalidValue(_ text: String, _ d: ArgumentDefinition) -> CommandLineError {
    var m = "the value '\(text)' is not valid for '\(d.synopsis)'"
    if !d.choices.isEmpty { m += " (one of: \(d.choices.joined(separator: ", ")))" }
    return CommandLineError.usage(m)
}

@propertyWrapper
public struct Option<Value>: ArgumentSlot {
    let box: Box<Value?>
    let name: NameSpecification
    let help: String
    let parse: (String) -> Value?
    let defaultDescription: String?
    let isRequired: Bool
    let choices: [String]

    public var wrappedValue: Value {
        get {
            guard let v = box.value else { preconditionFailure("option read before parsing") }
            return v
        }
        nonmutating set { box.value = newValue }
    }

    public init(wrappedValue: Value, name: NameSpecification = .long, help: String = "") where Value: ExpressibleByArgument {
        box = Box(wrappedValue)
        self.name = name
        self.help = help
        parse = { Value(argument: $0) }
        defaultDescription = argumentText(wrappedValue)
        isRequired = false
        choices = Value.allValueStrings
    }

    public init(name: NameSpecification = .long, help: String = "") where Value: ExpressibleByArgument {
        box = Box(nil)
        self.name = name
        self.help = help
        parse = { Value(argument: $0) }
        defaultDescription = nil
        isRequired = true
        choices = Value.allValueStrings
    }

    public init<Wrapped: ExpressibleByArgument>(name: NameSpecification = .long, help: String = "") where Value == Wrapped? {
        box = Box(.some(nil))
        self.name = name
        self.help = help
        parse = { Wrapped(argument: $0).map { .some($0) } }
        defaultDescription = nil
        isRequired = false
        choices = Wrapped.allValueStrings
    }

    func definition(label: String) -> ArgumentDefinition {
        let n = name.names(for: label)
        return ArgumentDefinition(kind: .option, long: n.long, short: n.short, help: help, valueName: kebabCase(label), isRequired: isRequired,
                                  isRepeating: false, defaultDescription: defaultDescription, choices: choices)
    }

    func assign(_ texts: [String], definition d: ArgumentDefinition) throws(CommandLineError) {
        guard let text = texts.last else { return }
        guard let v = parse(text) else { throw invalidValue(text, d) }
        box.value = v
    }
}

@propertyWrapper
public struct Flag: ArgumentSlot {
    let box: Box<Bool>
    let name: NameSpecification
    let help: String

    public var wrappedValue: Bool {
        get { box.value }
        nonmutating set { box.value = newValue }
    }

    public init(wrappedValue: Bool = false, name: NameSpecification = .long, help: String = "") {
        box = Box(wrappedValue)
        self.name = name
        self.help = help
    }

    func definition(label: String) -> ArgumentDefinition {
        let n = name.names(for: label)
        return ArgumentDefinition(kind: .flag, long: n.long, short: n.short, help: help, valueName: "", isRequired: false, isRepeating: false,
                                  defaultDescription: nil, choices: [])
    }

    func assign(_ texts: [String], definition: ArgumentDefinition) throws(CommandLineError) {
        if !texts.isEmpty { box.value = true }
    }
}

@propertyWrapper
public struct Argument<Value>: ArgumentSlot {
    let box: Box<Value?>
    let help: String
    let parseAll: ([String]) -> Value?
    let isRequired: Bool
    let isRepeating: Bool
    let defaultDescription: String?
    let choices: [String]

    public var wrappedValue: Value {
        get {
            guard let v = box.value else { preconditionFailure("argument read before parsing") }
            return v
        }
        nonmutating set { box.value = newValue }
    }

    public init(help: String = "") where Value: ExpressibleByArgument {
        box = Box(nil)
        self.help = help
        parseAll = { $0.count == 1 ? Value(argument: $0[0]) : nil }
        isRequired = true
        isRepeating = false
        defaultDescription = nil
        choices = Value.allValueStrings
    }

    public init(wrappedValue: Value, help: String = "") where Value: ExpressibleByArgument {
        box = Box(wrappedValue)
        self.help = help
        parseAll = { $0.count == 1 ? Value(argument: $0[0]) : nil }
        isRequired = false
        isRepeating = false
        defaultDescription = argumentText(wrappedValue)
        choices = Value.allValueStrings
    }

    public init<Wrapped: ExpressibleByArgument>(help: String = "") where Value == Wrapped? {
        box = Box(.some(nil))
        self.help = help
        parseAll = { $0.count == 1 ? Wrapped(argument: $0[0]).map { .some($0) } : nil }
        isRequired = false
        isRepeating = false
        defaultDescription = nil
        choices = Wrapped.allValueStrings
    }

    public init<Element: ExpressibleByArgument>(help: String = "") where Value == [Element] {
        box = Box(nil)
        self.help = help
        parseAll = { texts in
            var out: [Element] = []
            for t in texts { guard let e = Element(argument: t) else { return nil }; out.append(e) }
            return out
        }
        isRequired = true
        isRepeating = true
        defaultDescription = nil
        choices = Element.allValueStrings
    }

    func definition(label: String) -> ArgumentDefinition {
        ArgumentDefinition(kind: .positional, long: kebabCase(label), short: nil, help: help, valueName: kebabCase(label), isRequired: isRequired,
                           isRepeating: isRepeating, defaultDescription: defaultDescription, choices: choices)
    }

    func assign(_ texts: [String], definition d: ArgumentDefinition) throws(CommandLineError) {
        if texts.isEmpty { return }
        guard let v = parseAll(texts) else { throw invalidValue(texts.first { parseAll([$0]) == nil } ?? texts[0], d) }
        box.value = v
    }
}

@propertyWrapper
public struct OptionGroup<Value: ParsableArguments>: ArgumentGroupSlot {
    public var wrappedValue: Value
    public init() { wrappedValue = Value() }
    var groupValue: Any { wrappedValue }
}
