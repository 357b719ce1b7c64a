import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { checkInt } from './validate.js';

export interface RolloutScheduleProps {
  /** The admin node (its `live` alias): the only writer, so the only one that advances rollouts. */
  readonly target: lambda.IFunction;
  /** Minutes between two runs; a rollout's own `--every` decides when a step is due. @default 1 */
  readonly everyMinutes?: number;
}

/**
 * Advances guarded rollouts (services/{id}/rollout.json): EventBridge invokes the admin node with
 * its standard scheduled event (`"source": "aws.events", "detail-type": "Scheduled Event"`), which
 * the Lambda handler recognises and answers by advancing every rollout in progress.
 */
export class RolloutSchedule extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RolloutScheduleProps) {
    super(scope, id);
    checkInt('RolloutSchedule', 'everyMinutes', props.everyMinutes, 1, 1440);
    const every = props.everyMinutes ?? 1;
    this.rule = new events.Rule(this, 'Rule', {
      description: `apinode: advance guarded rollouts every ${every} minute(s) (services/{id}/rollout.json)`,
      schedule: events.Schedule.rate(Duration.minutes(every)),
    });
    // No retries: the next run comes within a minute and reads the state afresh; a stale event is worth nothing.
    this.rule.addTarget(new targets.LambdaFunction(props.target, { retryAttempts: 0, maxEventAge: Duration.seconds(60) }));
  }
}
