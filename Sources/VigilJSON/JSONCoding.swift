/// `Codable` values to and from JSON text through ``JSONValue``: the subset of Foundation's
/// JSONEncoder/JSONDecoder vigil uses (sorted keys, nil members left out, dictionaries with String
/// keys as objects), in a few hundred lines instead of FoundationEssentials.
public enum JSON {
    /// `value` as JSON text; members sorted by key. Throws for a non-finite number (JSON has none).
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        try encodeValue(value).text(pretty: pretty)
    }

    public static func encodeValue<T: Encodable>(_ value: T) throws -> JSONValue {
        let encoder = TreeEncoder(codingPath: [])
        try value.encode(to: encoder)
        guard let root = encoder.storage.root else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(T.self) encoded nothing"))
        }
        return root.value
    }

    /// Decodes `type` from JSON text. A syntax error throws ``JSONSyntaxError`` (line and column); a
    /// shape error throws `DecodingError` with the coding path.
    public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try decode(type, from: JSONValue.parse(text))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: TreeDecoder(value: value, codingPath: []))
    }

    /// "at channels[2].name" for a coding path, for messages a technician reads.
    public static func describe(_ path: [any CodingKey]) -> String {
        var s = ""
        for key in path {
            if let i = key.intValue, key.stringValue.hasPrefix("Index") || key.stringValue == "\(i)" { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + key.stringValue }
        }
        return s.isEmpty ? "the top level" : s
    }
}

// MARK: - Encoding

/// A node being built: containers are classes so nested encoders can fill them after they are linked.
final class EncodingNode {
    enum Kind { case value(JSONValue), array([EncodingNode]), object([(String, EncodingNode)]) }
    var kind: Kind
    init(_ kind: Kind) { self.kind = kind }

    var value: JSONValue {
        switch kind {
        case .value(let v): return v
        case .array(let items): return .array(items.map(\.value))
        case .object(let members):
            // A key encoded twice keeps its last value, as Foundation's encoder does.
            var seen: [String: Int] = [:]
            var out: [(key: String, value: JSONValue)] = []
            for (k, node) in members {
                if let i = seen[k] { out[i].value = node.value } else { seen[k] = out.count; out.append((k, node.value)) }
            }
            return .object(out)
        }
    }
}

final class EncodingSlot {
    var root: EncodingNode?
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) { self.stringValue = "Index \(intValue)"; self.intValue = intValue }
}

func number<T: BinaryInteger>(_ v: T) -> JSONValue { .number(String(v)) }

func number<F: BinaryFloatingPoint & LosslessStringConvertible>(_ v: F, _ path: [any CodingKey]) throws -> JSONValue {
    guard v.isFinite else { throw EncodingError.invalidValue(v, .init(codingPath: path, debugDescription: "\(v) is not a JSON number")) }
    // Swift's shortest round-trip form for the value's own type (a Float 0.1 is "0.1"), minus a
    // fraction of zero ("3.0" → "3") as other encoders write it.
    var s = v.description
    if s.hasSuffix(".0") { s.removeLast(2) }
    return .number(s)
}

final class TreeEncoder: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    let storage: EncodingSlot

    init(codingPath: [any CodingKey], storage: EncodingSlot = EncodingSlot()) {
        self.codingPath = codingPath
        self.storage = storage
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let node: EncodingNode
        if let existing = storage.root, case .object = existing.kind { node = existing } else { node = EncodingNode(.object([])); storage.root = node }
        return KeyedEncodingContainer(KeyedTreeEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let node: EncodingNode
        if let existing = storage.root, case .array = existing.kind { node = existing } else { node = EncodingNode(.array([])); storage.root = node }
        return UnkeyedTreeEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleTreeEncoder(encoder: self) }

    /// Encodes a nested value into its own node.
    static func node<T: Encodable>(for value: T, at path: [any CodingKey]) throws -> EncodingNode {
        let e = TreeEncoder(codingPath: path)
        try value.encode(to: e)
        return e.storage.root ?? EncodingNode(.object([]))
    }
}

struct SingleTreeEncoder: SingleValueEncodingContainer {
    let encoder: TreeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }
    private func set(_ v: JSONValue) { encoder.storage.root = EncodingNode(.value(v)) }
    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(try number(value, codingPath)) }
    mutating func encode(_ value: Float) throws { set(try number(value, codingPath)) }
    mutating func encode(_ value: Int) throws { set(number(value)) }
    mutating func encode(_ value: Int8) throws { set(number(value)) }
    mutating func encode(_ value: Int16) throws { set(number(value)) }
    mutating func encode(_ value: Int32) throws { set(number(value)) }
    mutating func encode(_ value: Int64) throws { set(number(value)) }
    mutating func encode(_ value: UInt) throws { set(number(value)) }
    mutating func encode(_ value: UInt8) throws { set(number(value)) }
    mutating func encode(_ value: UInt16) throws { set(number(value)) }
    mutating func encode(_ value: UInt32) throws { set(number(value)) }
    mutating func encode(_ value: UInt64) throws { set(number(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { encoder.storage.root = try TreeEncoder.node(for: value, at: codingPath) }
}

struct KeyedTreeEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    private func put(_ key: Key, _ child: EncodingNode) {
        guard case .object(var members) = node.kind else { return }
        members.append((key.stringValue, child))
        node.kind = .object(members)
    }
    private func put(_ key: Key, _ v: JSONValue) { put(key, EncodingNode(.value(v))) }

    mutating func encodeNil(forKey key: Key) throws { put(key, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(key, try number(value, codingPath + [key])) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(key, try number(value, codingPath + [key])) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(key, number(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(key, number(value)) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(key, number(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(key, number(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(key, number(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(key, number(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(key, number(value)) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(key, number(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(key, number(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(key, number(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { put(key, try TreeEncoder.node(for: value, at: codingPath + [key])) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingNode(.object([]))
        put(key, child)
        return KeyedEncodingContainer(KeyedTreeEncoder<NestedKey>(node: child, codingPath: codingPath + [key]))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = EncodingNode(.array([]))
        put(key, child)
        return UnkeyedTreeEncoder(node: child, codingPath: codingPath + [key])
    }
    mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let slot = EncodingSlot()
        let child = EncodingNode(.value(.null))
        slot.root = nil
        put(key, child)
        return LinkedEncoder(codingPath: codingPath + [key], slot: slot, target: child)
    }
}

/// A super-encoder: what it encodes is copied into its member when the encoder is released.
final class LinkedEncoder: Encoder {
    let inner: TreeEncoder
    let target: EncodingNode
    var codingPath: [any CodingKey] { inner.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    init(codingPath: [any CodingKey], slot: EncodingSlot, target: EncodingNode) {
        inner = TreeEncoder(codingPath: codingPath, storage: slot)
        self.target = target
    }
    deinit { if let root = inner.storage.root { target.kind = root.kind } }
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { inner.container(keyedBy: type) }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { inner.unkeyedContainer() }
    func singleValueContainer() -> any SingleValueEncodingContainer { inner.singleValueContainer() }
}

struct UnkeyedTreeEncoder: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var count: Int { if case .array(let items) = node.kind { return items.count } else { return 0 } }

    private func append(_ child: EncodingNode) {
        guard case .array(var items) = node.kind else { return }
        items.append(child)
        node.kind = .array(items)
    }
    private func append(_ v: JSONValue) { append(EncodingNode(.value(v))) }
    private var here: [any CodingKey] { codingPath + [AnyKey(intValue: count)] }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(try number(value, here)) }
    mutating func encode(_ value: Float) throws { append(try number(value, here)) }
    mutating func encode(_ value: Int) throws { append(number(value)) }
    mutating func encode(_ value: Int8) throws { append(number(value)) }
    mutating func encode(_ value: Int16) throws { append(number(value)) }
    mutating func encode(_ value: Int32) throws { append(number(value)) }
    mutating func encode(_ value: Int64) throws { append(number(value)) }
    mutating func encode(_ value: UInt) throws { append(number(value)) }
    mutating func encode(_ value: UInt8) throws { append(number(value)) }
    mutating func encode(_ value: UInt16) throws { append(number(value)) }
    mutating func encode(_ value: UInt32) throws { append(number(value)) }
    mutating func encode(_ value: UInt64) throws { append(number(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { append(try TreeEncoder.node(for: value, at: here)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingNode(.object([]))
        let path = here
        append(child)
        return KeyedEncodingContainer(KeyedTreeEncoder<NestedKey>(node: child, codingPath: path))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = EncodingNode(.array([]))
        let path = here
        append(child)
        return UnkeyedTreeEncoder(node: child, codingPath: path)
    }
    mutating func superEncoder() -> any Encoder {
        let child = EncodingNode(.value(.null))
        let path = here
        append(child)
        return LinkedEncoder(codingPath: path, slot: EncodingSlot(), target: child)
    }
}

// MARK: - Decoding

struct TreeDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: Int].self, value, codingPath, "an object") }
        var table: [String: JSONValue] = [:]
        for m in members { table[m.key] = m.value }
        return KeyedDecodingContainer(KeyedTreeDecoder<Key>(members: table, order: members.map(\.key), codingPath: codingPath))
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch([Int].self, value, codingPath, "an array") }
        return UnkeyedTreeDecoder(items: items, codingPath: codingPath)
    }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleTreeDecoder(value: value, codingPath: codingPath) }
}

func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey], _ expected: String) -> DecodingError {
    .typeMismatch(type, .init(codingPath: path, debugDescription: "\(expected) expected at \(JSON.describe(path)), found \(value.kindDescription)"))
}

/// The primitive conversions every container shares.
enum Primitive {
    static func bool(_ v: JSONValue, _ path: [any CodingKey]) throws -> Bool {
        guard case .bool(let b) = v else { throw mismatch(Bool.self, v, path, "true or false") }
        return b
    }
    static func string(_ v: JSONValue, _ path: [any CodingKey]) throws -> String {
        guard case .string(let s) = v else { throw mismatch(String.self, v, path, "a string") }
        return s
    }
    static func double(_ v: JSONValue, _ path: [any CodingKey]) throws -> Double {
        guard case .number(let n) = v, let d = Double(n) else { throw mismatch(Double.self, v, path, "a number") }
        return d
    }
    static func integer<T: FixedWidthInteger>(_ v: JSONValue, _ path: [any CodingKey]) throws -> T {
        guard case .number(let n) = v else { throw mismatch(T.self, v, path, "an integer") }
        if let i = T(n) { return i }
        // "3.0" or "1e3" written by another encoder: accept when exact and in range.
        if let d = Double(n), d.rounded() == d, let i = T(exactly: d) { return i }
        throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(n) at \(JSON.describe(path)) is not a \(T.self)"))
    }
}

struct SingleTreeDecoder: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]
    func decodeNil() -> Bool { value == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try Primitive.bool(value, codingPath) }
    func decode(_ type: String.Type) throws -> String { try Primitive.string(value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try Primitive.double(value, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { Float(try Primitive.double(value, codingPath)) }
    func decode(_ type: Int.Type) throws -> Int { try Primitive.integer(value, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try Primitive.integer(value, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try Primitive.integer(value, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try Primitive.integer(value, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try Primitive.integer(value, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try Primitive.integer(value, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try Primitive.integer(value, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try Primitive.integer(value, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try Primitive.integer(value, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try Primitive.integer(value, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: TreeDecoder(value: value, codingPath: codingPath)) }
}

struct KeyedTreeDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let order: [String]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { order.compactMap { Key(stringValue: $0) } }
    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func value(_ key: Key) throws -> JSONValue {
        guard let v = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "\"\(key.stringValue)\" missing at \(JSON.describe(codingPath))"))
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try Primitive.bool(value(key), codingPath + [key]) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try Primitive.string(value(key), codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try Primitive.double(value(key), codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try Primitive.double(value(key), codingPath + [key])) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try Primitive.integer(value(key), codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try Primitive.integer(value(key), codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try Primitive.integer(value(key), codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try Primitive.integer(value(key), codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try Primitive.integer(value(key), codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try Primitive.integer(value(key), codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try Primitive.integer(value(key), codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try Primitive.integer(value(key), codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try Primitive.integer(value(key), codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try Primitive.integer(value(key), codingPath + [key]) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try T(from: TreeDecoder(value: value(key), codingPath: codingPath + [key]))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try TreeDecoder(value: value(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(value: value(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { TreeDecoder(value: members["super"] ?? .null, codingPath: codingPath + [AnyKey(stringValue: "super")]) }
    func superDecoder(forKey key: Key) throws -> any Decoder { TreeDecoder(value: members[key.stringValue] ?? .null, codingPath: codingPath + [key]) }
}

struct UnkeyedTreeDecoder: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private var here: [any CodingKey] { codingPath + [AnyKey(intValue: currentIndex)] }

    private mutating func next() throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: here, debugDescription: "the array at \(JSON.describe(codingPath)) has only \(items.count) elements"))
        }
        defer { currentIndex += 1 }
        return items[currentIndex]
    }
    private mutating func take<T>(_ convert: (JSONValue, [any CodingKey]) throws -> T) throws -> T {
        let path = here
        return try convert(next(), path)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        if items[currentIndex] == .null { currentIndex += 1; return true }
        return false
    }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try take(Primitive.bool) }
    mutating func decode(_ type: String.Type) throws -> String { try take(Primitive.string) }
    mutating func decode(_ type: Double.Type) throws -> Double { try take(Primitive.double) }
    mutating func decode(_ type: Float.Type) throws -> Float { Float(try take(Primitive.double)) }
    mutating func decode(_ type: Int.Type) throws -> Int { try take(Primitive.integer) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try take(Primitive.integer) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try take(Primitive.integer) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try take(Primitive.integer) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try take(Primitive.integer) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try take(Primitive.integer) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try take(Primitive.integer) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try take(Primitive.integer) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try take(Primitive.integer) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try take(Primitive.integer) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let path = here
        return try T(from: TreeDecoder(value: next(), codingPath: path))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let path = here
        return try TreeDecoder(value: next(), codingPath: path).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let path = here
        return try TreeDecoder(value: next(), codingPath: path).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder {
        let path = here
        return TreeDecoder(value: try next(), codingPath: path)
    }
}
