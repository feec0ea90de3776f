/// Encoding the ONNX messages to the wire format (fields in field-number order of onnx.proto3,
/// repeated numbers packed, empty and default fields left out as proto3 does).

extension StringStringEntry {
    var encoded: ProtoWriter {
        var w = ProtoWriter()
        if !key.isEmpty { w.string(1, key) }
        if !value.isEmpty { w.string(2, value) }
        return w
    }
}

extension OperatorSetID {
    var encoded: ProtoWriter {
        var w = ProtoWriter()
        if !domain.isEmpty { w.string(1, domain) }
        if version != 0 { w.int64(2, version) }
        return w
    }
}

extension TensorProto {
    public var encoded: ProtoWriter {
        var w = ProtoWriter()
        w.packedInt64s(1, dims)
        if dataType != 0 { w.int64(2, Int64(dataType)) }
        w.packedFloats(4, floatData)
        w.packedInt64s(5, int32Data.map(Int64.init))
        for s in stringData { w.bytes(6, s) }
        w.packedInt64s(7, int64Data)
        if !name.isEmpty { w.string(8, name) }
        if let raw = rawData { w.bytes(9, raw) }
        w.packedDoubles(10, doubleData)
        w.packedInt64s(11, uint64Data.map { Int64(bitPattern: $0) })
        if !docString.isEmpty { w.string(12, docString) }
        for e in externalData { w.message(13, e.encoded) }
        if dataLocation != 0 { w.int64(14, Int64(dataLocation)) }
        return w
    }
}

extension TensorTypeProto {
    /// As a TypeProto (its tensor_type case).
    var encodedType: ProtoWriter {
        var t = ProtoWriter()
        if elemType != 0 { t.int64(1, Int64(elemType)) }
        if let shape {
            var s = ProtoWriter()
            for d in shape {
                var dw = ProtoWriter()
                if let v = d.value { dw.int64(1, v) }
                if let p = d.param { dw.string(2, p) }
                s.message(1, dw)
            }
            t.message(2, s)
        }
        var w = ProtoWriter()
        w.message(1, t)
        return w
    }
}

extension ValueInfoProto {
    var encoded: ProtoWriter {
        var w = ProtoWriter()
        if !name.isEmpty { w.string(1, name) }
        if let type { w.message(2, type.encodedType) }
        if !docString.isEmpty { w.string(3, docString) }
        for e in metadataProps { w.message(4, e.encoded) }
        return w
    }
}

extension AttributeProto {
    var encoded: ProtoWriter {
        var w = ProtoWriter()
        w.string(1, name)
        if f != 0 { w.float(2, f) }
        if i != 0 { w.int64(3, i) }
        if !s.isEmpty { w.bytes(4, s) }
        if let t { w.message(5, t.encoded) }
        if let g { w.message(6, g.encoded) }
        w.packedFloats(7, floats)
        w.packedInt64s(8, ints)
        for s in strings { w.bytes(9, s) }
        for t in tensors { w.message(10, t.encoded) }
        for g in graphs { w.message(11, g.encoded) }
        if !docString.isEmpty { w.string(13, docString) }
        if type != 0 { w.int64(20, Int64(type)) }
        if !refAttrName.isEmpty { w.string(21, refAttrName) }
        return w
    }
}

extension NodeProto {
    var encoded: ProtoWriter {
        var w = ProtoWriter()
        for i in input { w.string(1, i) }
        for o in output { w.string(2, o) }
        if !name.isEmpty { w.string(3, name) }
        if !opType.isEmpty { w.string(4, opType) }
        for a in attribute { w.message(5, a.encoded) }
        if !docString.isEmpty { w.string(6, docString) }
        if !domain.isEmpty { w.string(7, domain) }
        for e in metadataProps { w.message(9, e.encoded) }
        return w
    }
}

extension GraphProto {
    var encoded: ProtoWriter {
        var w = ProtoWriter()
        for n in node { w.message(1, n.encoded) }
        if !name.isEmpty { w.string(2, name) }
        for t in initializer { w.message(5, t.encoded) }
        if !docString.isEmpty { w.string(10, docString) }
        for v in input { w.message(11, v.encoded) }
        for v in output { w.message(12, v.encoded) }
        for v in valueInfo { w.message(13, v.encoded) }
        for e in metadataProps { w.message(16, e.encoded) }
        return w
    }
}

extension ModelProto {
    /// The serialized model.
    public var serialized: [UInt8] {
        var w = ProtoWriter()
        if irVersion != 0 { w.int64(1, irVersion) }
        if !producerName.isEmpty { w.string(2, producerName) }
        if !producerVersion.isEmpty { w.string(3, producerVersion) }
        if !domain.isEmpty { w.string(4, domain) }
        if modelVersion != 0 { w.int64(5, modelVersion) }
        if !docString.isEmpty { w.string(6, docString) }
        w.message(7, graph.encoded)
        for o in opsetImport { w.message(8, o.encoded) }
        for e in metadataProps { w.message(14, e.encoded) }
        return w.bytes
    }
}
