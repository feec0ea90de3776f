/// A one-line error from the engine: bad weights, a bad safetensors file, a wrong input.
/// The message names the file and tensor (or node) and says what is wrong.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
