import VigilBoardLinux
import VigilBoardSimulated
import VigilLoop
import VigilRuntime

/// The loop body the agent runs: the node cycle, specialised here for each board vigil can run.
/// The runtime knows no board and this module knows both, so this is where the 1 kHz body is
/// compiled for the concrete buses, chips and drivers (the runtime's modules are built with
/// cross-module optimisation for it); without it the loop would run the generic body, with a
/// runtime type lookup on every driver call.
public final class NodeLoopBody<Board: NodeBoard>: LoopBody {
    public let node: NodeCycle<Board>

    public init(_ node: NodeCycle<Board>) { self.node = node }

    @_specialize(where Board == SimulatedBoard)
    @_specialize(where Board == LinuxBoard)
    public func cycle(_ timing: CycleTiming) { node.cycle(timing) }
}
