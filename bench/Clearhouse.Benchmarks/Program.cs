using BenchmarkDotNet.Running;
using Clearhouse.Benchmarks.Throughput;

// Five drivers in one executable:
//   dotnet run -c Release --project bench/Clearhouse.Benchmarks -- throughput [--commands N] [--runs N] ...
//   dotnet run -c Release --project bench/Clearhouse.Benchmarks -- durable [--commands N] [--recovery-commands N] ...
//   dotnet run -c Release --project bench/Clearhouse.Benchmarks -- api-load --url URL --client-id ID --client-secret S [--rate N] ...
//   dotnet run -c Release --project bench/Clearhouse.Benchmarks -- read-thread [--orders N] [--window N] [-- server options]
//   dotnet run -c Release --project bench/Clearhouse.Benchmarks -- --filter '*'     (BenchmarkDotNet suites)
if (args.Length > 0 && args[0] == "throughput")
{
    return ThroughputRun.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "durable")
{
    return Clearhouse.Benchmarks.Durability.DurableRun.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "api-load")
{
    return Clearhouse.Benchmarks.Api.ApiLoadRun.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "read-thread")
{
    return await Clearhouse.Benchmarks.Api.ReadThreadRun.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Clearhouse.Benchmarks.Venue).Assembly).Run(args);
return 0;
