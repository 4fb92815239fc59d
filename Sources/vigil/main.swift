import VigilCLI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

exit(VigilCommand.execute(Array(CommandLine.arguments.dropFirst())))
