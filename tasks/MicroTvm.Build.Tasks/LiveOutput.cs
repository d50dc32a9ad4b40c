using System;
using System.Reflection;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Build.Tasks
{
    /// <summary>
    /// Lines a person must see while a step runs: a firmware's console, the tuner's trials, the board table. At normal
    /// verbosity the terminal logger (dotnet build's default in a terminal) prints no task message as it comes except
    /// "test output": an ExtendedBuildMessageEventArgs of type TLTESTOUTPUT, the event dotnet test's runners send, in a
    /// project that ran the target <c>_TestRunStart</c>. The SDK's live targets run it (MicroTvmLiveOutput in
    /// MicroTvm.Desk.targets) and these lines are such events; every other logger sees an ordinary high-importance
    /// message with the same text. The event type exists from MSBuild 17.8; the tasks compile against 17.7, so it is
    /// made by reflection, and an older MSBuild gets the plain message.
    /// </summary>
    internal static class LiveOutput
    {
        private const string TestOutputType = "TLTESTOUTPUT";

        private static readonly ConstructorInfo? ExtendedMessage = typeof(BuildMessageEventArgs).Assembly
            .GetType("Microsoft.Build.Framework.ExtendedBuildMessageEventArgs")
            ?.GetConstructor(new[] { typeof(string), typeof(string), typeof(string), typeof(string), typeof(MessageImportance) });

        public static void Line(Task task, string text)
        {
            if (ExtendedMessage == null || task.BuildEngine == null)
            {
                task.Log.LogMessage(MessageImportance.High, "{0}", text);
                return;
            }
            var message = (BuildMessageEventArgs)ExtendedMessage.Invoke(new object?[] { TestOutputType, text, null, task.GetType().Name, MessageImportance.High });
            task.BuildEngine.LogMessageEvent(message);
        }
    }
}
