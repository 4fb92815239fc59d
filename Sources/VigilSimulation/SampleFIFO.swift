/// A device FIFO of 3-axis samples: fixed storage, oldest-first, as the silicon keeps it.
struct SampleFIFO {
    typealias Entry = (Int16, Int16, Int16)
    private var storage: [Entry]
    private var head = 0
    private(set) var count = 0
    let depth: Int

    init(depth: Int) {
        self.depth = depth
        storage = Array(repeating: (0, 0, 0), count: depth)
    }

    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count == depth }
    var first: Entry? { count == 0 ? nil : storage[head] }

    mutating func append(_ e: Entry) {
        precondition(count < depth)
        storage[(head + count) % depth] = e
        count += 1
    }

    mutating func removeFirst() {
        precondition(count > 0)
        head = (head + 1) % depth
        count -= 1
    }

    mutating func removeAll() {
        head = 0
        count = 0
    }
}
