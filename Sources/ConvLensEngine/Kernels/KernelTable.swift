import ConvLensGraph

/// The engine's view of a layer kind: the kinds it has kernels for, and `unsupported` for the rest.
/// This is the one place a new layer kind must be answered on the engine side (the compiler points
/// here, exhaustively); the engine's forward and backward switch over this, not over `Layer`, so a
/// kind without kernels touches nothing else.
enum KernelOp {
    case conv2d(Conv2d)
    case batchNorm2d(BatchNorm2d)
    case linear(Linear)
    case maxPool2d(MaxPool2d)
    case avgPool2d(AvgPool2d)
    case adaptiveAvgPool2d(AdaptiveAvgPool2d)
    case relu(ReLU)
    case dropout(Dropout)
    case flatten(Flatten)
    case identity(Identity)
    case concat(Concat)
    case add(Add)
    case activation(Activation)
    /// No kernel yet: the engine refuses such graphs when it is built.
    case unsupported(String)
}

extension Layer {
    var kernel: KernelOp {
        switch self {
        case .conv2d(let l): return .conv2d(l)
        case .batchNorm2d(let l): return .batchNorm2d(l)
        case .linear(let l): return .linear(l)
        case .maxPool2d(let l): return .maxPool2d(l)
        case .avgPool2d(let l): return .avgPool2d(l)
        case .adaptiveAvgPool2d(let l): return .adaptiveAvgPool2d(l)
        case .relu(let l): return .relu(l)
        case .dropout(let l): return .dropout(l)
        case .flatten(let l): return .flatten(l)
        case .identity(let l): return .identity(l)
        case .concat(let l): return .concat(l)
        case .add(let l): return .add(l)
        case .activation(let l): return .activation(l)
        case .layerNorm, .softmax, .stochasticDepth, .permute, .mul, .mean, .chunk, .channelShuffle, .parameter, .groupNorm:
            return .unsupported(className)
        }
    }
}
