#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import VigilLoop
import VigilBase

/// Set by SIGWINCH and SIGINT/SIGTERM; read by the watch loop (handlers may only touch atomics).
let watchResized = Atomic<Bool>(false)
let watchInterrupted = Atomic<Bool>(false)

/// The terminal `vigil watch` draws on: its size (TIOCGWINSZ, followed through SIGWINCH), keys
/// from standard input without echo or line buffering, and the alternate screen, all put back as
/// they were by `restore()` (also after Ctrl-C).
final class WatchTerminal {
    enum Key: Equatable { case none, quit, up, down, resized }

    private var saved = termios()
    private var savedValid = false
    private var restored = false

    init() {
        if tcgetattr(0, &saved) == 0 {
            savedValid = true
            var raw = saved
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
            raw.c_cc.6 = 0   // VMIN: reads return what is there
            raw.c_cc.5 = 0   // VTIME
            _ = tcsetattr(0, TCSANOW, &raw)
        }
        signal(SIGWINCH) { _ in watchResized.store(true, ordering: .relaxed) }
        signal(SIGINT) { _ in watchInterrupted.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in watchInterrupted.store(true, ordering: .relaxed) }
        // The alternate screen (the shell's screen comes back on exit), cursor hidden.
        Console.out("\u{1B}[?1049h\u{1B}[?25l", terminator: "")
    }

    deinit { restore() }

    func restore() {
        guard !restored else { return }
        restored = true
        if savedValid { _ = tcsetattr(0, TCSANOW, &saved) }
        Console.out("\u{1B}[?25h\u{1B}[?1049l", terminator: "")
    }

    var interrupted: Bool { watchInterrupted.load(ordering: .relaxed) }

    /// Columns and rows; 80 × 24 where the terminal does not say.
    func size() -> (Int, Int) {
        var w = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &w) == 0, w.ws_col > 0, w.ws_row > 0 { return (Int(w.ws_col), Int(w.ws_row)) }
        return (80, 24)
    }

    /// Home, each line followed by clear-to-end-of-line, then clear the rest: no flicker, no wrap
    /// (every line is already cut to the width; the last one is not followed by a newline, so the
    /// screen never scrolls).
    func draw(_ lines: [String]) {
        Console.out("\u{1B}[H" + lines.joined(separator: "\u{1B}[K\r\n") + "\u{1B}[K\u{1B}[J", terminator: "")
    }

    /// Seconds on the monotonic clock (``SystemClock``, the one reader of the system's clocks).
    static func now() -> Double { Double(SystemClock.monotonic().nanoseconds) / 1e9 }

    /// The next key before `deadline` (or `.none` when it passes), `.resized` after a SIGWINCH.
    func waitForKey(until deadline: Double) -> Key {
        if watchResized.exchange(false, ordering: .relaxed) { return .resized }
        let ms = max(0, Int32((deadline - Self.now()) * 1000))
        var p = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        let r = poll(&p, 1, ms)
        if watchResized.exchange(false, ordering: .relaxed) { return .resized }
        guard r > 0 else { return .none }
        var buffer = [UInt8](repeating: 0, count: 16)
        let n = read(0, &buffer, buffer.count)
        if n == 0 { return .quit }   // standard input closed
        guard n > 0 else { return .none }
        let bytes = Array(buffer[0..<n])
        switch bytes {
        case [UInt8(ascii: "q")], [UInt8(ascii: "Q")]: return .quit
        case [UInt8(ascii: "j")], [0x1B, 0x5B, 0x42], [0x1B, 0x4F, 0x42]: return .down
        case [UInt8(ascii: "k")], [0x1B, 0x5B, 0x41], [0x1B, 0x4F, 0x41]: return .up
        default: return .none
        }
    }
}
