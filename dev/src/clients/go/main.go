// Command temporal-go-client is a Temporal client in Go, as the services users already have write
// it: the Go SDK with its OpenTelemetry tracing interceptor (go.temporal.io/sdk/contrib/opentelemetry)
// and the routing key in OpenTelemetry baggage (sd-routing-key). The interceptor writes the
// _tracer-data header; nothing of this project is involved. It starts the sample domain's workflows
// on the shared task queue, so the worker's first-task check is their only routing.
//
//	temporal-go-client -address 127.0.0.1:7233 -task-queue orders -key K -case signal-with-start [-repeat 5]
//
// Prints one JSON object per run: what was sent, the workflow's result and start→complete time.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

type runOutput struct {
	Case              string          `json:"case"`
	WorkflowID        string          `json:"workflowId"`
	Signals           []string        `json:"signals"`
	Result            json.RawMessage `json:"result"`
	StartToCompleteMs float64         `json:"startToCompleteMs"`
}

// orderEvent is an order.created event as the producer writes it (the workflow's argument).
func orderEvent(id string) map[string]any {
	return map[string]any{
		"id":      id,
		"type":    "order.created",
		"time":    "2026-01-01T00:00:00Z",
		"payload": map[string]any{"items": []any{map[string]any{"sku": "widget", "qty": 2}}},
	}
}

func runCase(ctx context.Context, c client.Client, name, taskQueue string) (*runOutput, error) {
	id := fmt.Sprintf("go-%s-%s", name, uuid.NewString())
	out := &runOutput{Case: name, WorkflowID: id, Signals: []string{}}
	options := client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}
	began := time.Now()
	var err error
	switch name {
	case "start":
		_, err = c.ExecuteWorkflow(ctx, options, "processOrder", orderEvent(id))
	case "signal-with-start":
		_, err = c.SignalWithStartWorkflow(ctx, id, "approve", map[string]any{"approvedBy": "s1"}, options,
			"awaitApproval", orderEvent(id))
		out.Signals = append(out.Signals, "s1")
	default:
		return nil, fmt.Errorf("unknown case %q (start, signal-with-start)", name)
	}
	if err != nil {
		return nil, err
	}
	// The run that finishes is the last of the chain: Get follows continue-as-new.
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &out.Result); err != nil {
		return nil, err
	}
	out.StartToCompleteMs = float64(time.Since(began).Microseconds()) / 1000
	return out, nil
}

func main() {
	address := flag.String("address", "127.0.0.1:7233", "Temporal frontend")
	namespace := flag.String("namespace", "default", "Temporal namespace")
	taskQueue := flag.String("task-queue", "", "the shared task queue")
	key := flag.String("key", "", "the routing key, set as baggage sd-routing-key")
	caseName := flag.String("case", "", "start or signal-with-start")
	repeat := flag.Int("repeat", 1, "runs of the case")
	flag.Parse()
	if *taskQueue == "" || *key == "" || *caseName == "" {
		flag.Usage()
		os.Exit(2)
	}

	// As the SDK's OpenTelemetry sample: an SDK tracer provider, the tracing interceptor on the client,
	// and the key in the baggage of the context every call is made with.
	provider := sdktrace.NewTracerProvider()
	defer func() { _ = provider.Shutdown(context.Background()) }()
	otel.SetTracerProvider(provider)
	tracing, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{})
	if err != nil {
		fail(err)
	}
	c, err := client.Dial(client.Options{
		HostPort:     *address,
		Namespace:    *namespace,
		Interceptors: []interceptor.ClientInterceptor{tracing},
	})
	if err != nil {
		fail(err)
	}
	defer c.Close()

	member, err := baggage.NewMemberRaw("sd-routing-key", *key)
	if err != nil {
		fail(err)
	}
	bag, err := baggage.New(member)
	if err != nil {
		fail(err)
	}
	tracer := provider.Tracer("foreign-client")
	for i := 0; i < *repeat; i++ {
		ctx, span := tracer.Start(baggage.ContextWithBaggage(context.Background(), bag), "case:"+*caseName)
		out, err := runCase(ctx, c, *caseName, *taskQueue)
		span.End()
		if err != nil {
			fail(err)
		}
		line, _ := json.Marshal(out)
		fmt.Println(string(line))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "temporal-go-client:", err)
	os.Exit(1)
}
