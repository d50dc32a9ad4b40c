namespace MicroTvm.Compiler.Ir;

/// <summary>Element types a tensor can hold. Names follow TFLite's TensorType.</summary>
public enum ElementType
{
    Float32,
    Int8,
    UInt8,
    Int16,
    Int32,
    Int64,
    Bool,
}

public static class ElementTypeExtensions
{
    public static int SizeInBytes(this ElementType type) => type switch
    {
        ElementType.Float32 => 4,
        ElementType.Int8 => 1,
        ElementType.UInt8 => 1,
        ElementType.Int16 => 2,
        ElementType.Int32 => 4,
        ElementType.Int64 => 8,
        ElementType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>The C99 type that holds one element.</summary>
    public static string CType(this ElementType type) => type switch
    {
        ElementType.Float32 => "float",
        ElementType.Int8 => "int8_t",
        ElementType.UInt8 => "uint8_t",
        ElementType.Int16 => "int16_t",
        ElementType.Int32 => "int32_t",
        ElementType.Int64 => "int64_t",
        ElementType.Bool => "uint8_t",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Lower-case name as TFLite prints it (float32, int8, …).</summary>
    public static string DisplayName(this ElementType type) => type.ToString().ToLowerInvariant();
}
