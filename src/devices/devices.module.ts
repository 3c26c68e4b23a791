import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AreasModule } from '../areas/areas.module.js';
import { CommandsProcessor } from './commands/commands.processor.js';
import { DeviceCommandsController } from './commands/device-commands.controller.js';
import { DeviceCommands } from './commands/device-commands.service.js';
import { DeviceCommand } from './device-command.entity.js';
import { DeviceConfigPublisher } from './device-config.publisher.js';
import { DeviceCredentials } from './device-credentials.service.js';
import { DeviceGateway } from './device-gateway.service.js';
import { DeviceInbox } from './device-inbox.js';
import { DeviceStateChange } from './device-state-change.entity.js';
import { Device } from './device.entity.js';
import { DevicesController } from './devices.controller.js';
import { DevicesService } from './devices.service.js';
import { LivenessProcessor } from './liveness/liveness.processor.js';
import { InstanceLease } from './liveness/instance-lease.service.js';
import { LivenessStore } from './liveness/liveness.store.js';
import { StateRecorder } from './liveness/state-recorder.service.js';
import { TelemetryBuffer } from './telemetry-buffer.service.js';
import { TelemetryProcessor } from './telemetry.processor.js';

@Module({
  imports: [TypeOrmModule.forFeature([Device, DeviceStateChange, DeviceCommand]), AreasModule],
  controllers: [DevicesController, DeviceCommandsController],
  providers: [
    DevicesService,
    DeviceCredentials,
    DeviceGateway,
    DeviceInbox,
    DeviceConfigPublisher,
    LivenessStore,
    InstanceLease,
    StateRecorder,
    LivenessProcessor,
    TelemetryBuffer,
    TelemetryProcessor,
    DeviceCommands,
    CommandsProcessor,
  ],
  exports: [DeviceInbox, DevicesService, TelemetryBuffer, DeviceCommands],
})
export class DevicesModule {}
