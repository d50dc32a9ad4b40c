using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// Runs a graph on the host with the arithmetic of TensorFlow Lite Micro's reference kernels: bit-exact for int8 and
/// int16 tensors, IEEE single precision in the same operation order for float32. Plain loops, clarity over speed;
/// this is the oracle the generated C is tested against.
/// </summary>
public static class ReferenceEvaluator
{
    /// <summary>
    /// Evaluates <paramref name="graph"/> with one little-endian, row-major byte array per graph input (in
    /// <see cref="Graph.Inputs"/> order) and returns the value of every tensor, constants included.
    /// </summary>
    public static IReadOnlyDictionary<Tensor, byte[]> Run(Graph graph, IReadOnlyList<byte[]> inputs)
    {
        if (inputs.Count != graph.Inputs.Count)
            throw new CompilerException(ErrorCodes.InvalidInputData, $"the graph has {graph.Inputs.Count} input(s) but {inputs.Count} were given") { File = graph.SourcePath };

        var values = new TensorValues();
        foreach (var tensor in graph.Tensors)
            if (tensor.Data is not null) values.SetBytes(tensor, tensor.Data);

        for (int i = 0; i < inputs.Count; i++)
        {
            var tensor = graph.Inputs[i];
            if (inputs[i].LongLength != tensor.ByteSize)
                throw new CompilerException(ErrorCodes.InvalidInputData, $"input {i} ({tensor}) needs {tensor.ByteSize} bytes but {inputs[i].LongLength} were given") { File = graph.SourcePath };
            values.SetBytes(tensor, (byte[])inputs[i].Clone());
        }

        foreach (var node in graph.Nodes)
        {
            try
            {
                Kernels.Run(node, values);
            }
            catch (CompilerException e) when (e.OperatorIndex is null)
            {
                throw e.ForOperator(node, graph.SourcePath);
            }
            catch (CompilerException e)
            {
                throw graph.SourcePath is null ? e : e.WithFile(graph.SourcePath);
            }
            catch (Exception e) when (e is IndexOutOfRangeException or ArgumentException or InvalidOperationException
                                          or OverflowException or KeyNotFoundException or DivideByZeroException)
            {
                // Only a graph whose operand shapes contradict its attributes gets here (the importer rejects those).
                throw new CompilerException(ErrorCodes.InvalidOperator, $"{node}: operands do not fit the operator's attributes ({e.Message})", e)
                {
                    File = graph.SourcePath,
                    OperatorIndex = node.Index,
                    OperatorName = node.Kind.TfliteName(),
                };
            }
        }

        return values.All;
    }
}
